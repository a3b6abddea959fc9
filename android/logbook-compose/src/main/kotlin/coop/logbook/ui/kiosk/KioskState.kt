// What the café kiosk screen shows, as plain data, and what a person can do on it. No
// library types and no text: the screen turns these into words (Strings) and the presenter
// makes them from the store. A Rust screen model can later produce the same shapes.
package coop.logbook.ui.kiosk

/** Digits in a kiosk PIN (the core accepts exactly four). */
const val PIN_LENGTH = 4

/** A name on the tiles screen: initials and a colour, never a photo. */
data class PersonTile(
    val id: String,
    val name: String,
    /** Index into the kiosk palette, stable for a person. */
    val colour: Int,
    val onShift: Boolean,
) {
    val initials: String get() = initialsOf(name)
}

/** Up to two letters: the first of the first and the last word ("Aisha Khan" -> "AK"). */
fun initialsOf(name: String): String {
    val words = name.trim().split(Regex("\\s+")).filter { it.isNotEmpty() }
    return when {
        words.isEmpty() -> "?"
        words.size == 1 -> words[0].take(1).uppercase()
        else -> (words.first().take(1) + words.last().take(1)).uppercase()
    }
}

/** What a tap records. */
enum class KioskAction { CLOCK_IN, CLOCK_OUT, BREAK_START, BREAK_END }

/** The actions offered to someone: clock in when off shift; out or a break when on shift. */
fun actionsFor(person: PersonTile): List<KioskAction> =
    if (person.onShift) listOf(KioskAction.CLOCK_OUT, KioskAction.BREAK_START, KioskAction.BREAK_END)
    else listOf(KioskAction.CLOCK_IN)

sealed interface KioskStage {
    /** The names; the idle screen. */
    data object Tiles : KioskStage

    /**
     * The PIN pad for [person]. Only the number of digits typed is state: the PIN itself
     * stays inside the presenter, so it is never drawn, logged or screenshotted.
     */
    data class Pin(
        val person: PersonTile,
        val digits: Int = 0,
        /** Tries left after a wrong PIN; null until the first mistake. */
        val triesLeft: Int? = null,
        /** A tap is being saved. */
        val busy: Boolean = false,
    ) : KioskStage {
        val actions: List<KioskAction> get() = actionsFor(person)
        val complete: Boolean get() = digits == PIN_LENGTH
    }

    /** The tap was recorded at [time] (`HH:mm`, the coop's time zone). */
    data class Done(val person: PersonTile, val action: KioskAction, val time: String) : KioskStage

    /** Too many wrong PINs: [person] may try again in [minutes]. */
    data class LockedOut(val person: PersonTile, val minutes: Int) : KioskStage

    /** The core refused the tap ("already clocked in"); [reason] is its words. */
    data class Refused(val person: PersonTile, val reason: String) : KioskStage
}

data class KioskState(
    /** The site's name, as the coordinator typed it. */
    val siteName: String = "",
    val people: List<PersonTile> = emptyList(),
    val stage: KioskStage = KioskStage.Tiles,
    /** The last sync could not reach the relay. */
    val offline: Boolean = false,
    /** Local changes (taps) the relay has not acknowledged yet. */
    val pendingTaps: Int = 0,
) {
    val onShift: List<PersonTile> get() = people.filter { it.onShift }
}

sealed interface KioskEvent {
    data class PickPerson(val personId: String) : KioskEvent
    data class Digit(val digit: Int) : KioskEvent
    data object DeleteDigit : KioskEvent
    data class Act(val action: KioskAction) : KioskEvent
    /** Back to the names (back button, Done, or the idle timer). */
    data object BackToTiles : KioskEvent
}
