// Every kiosk screen state, drawn in English and Italian to target/screenshots/, none blank.
package coop.logbook.desktop

import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.ffi.KioskScreenState
import coop.logbook.ffi.KioskStage
import coop.logbook.ffi.KioskTile
import coop.logbook.ffi.ScreenMessage
import coop.logbook.ffi.ScreenMessageArg
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.ui.kiosk.KioskScreen
import coop.logbook.ui.kiosk.KioskTheme
import coop.logbook.ui.kiosk.emptyKioskState
import androidx.compose.runtime.CompositionLocalProvider
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import org.junit.Test

/** A message as the Rust models send it: a key and its values. */
fun msg(key: String, vararg args: Pair<String, Any>) =
    ScreenMessage(key, args.map { (n, v) -> ScreenMessageArg(n, v.toString()) })

class KioskScreenshotsTest {
    private fun tile(id: String, name: String, initials: String, colour: Int, onShift: Boolean) =
        KioskTile(id, name, initials, colour.toUInt(), onShift)

    private val people = listOf(
        tile("p-1", "Aisha Khan", "AK", 0, onShift = false),
        tile("p-2", "Ben Murray", "BM", 1, onShift = true),
        tile("p-3", "Chiara Rossi", "CR", 2, onShift = false),
        tile("p-4", "Dawit Bekele", "DB", 3, onShift = true),
        tile("p-5", "Eilidh Fraser", "EF", 4, onShift = false),
        tile("p-6", "Marco", "M", 5, onShift = false),
    )
    private val base = emptyKioskState().copy(siteName = "Café", people = people, onShift = people.filter { it.onShift })
    private val aisha = people[0]
    private val ben = people[1]

    private fun pin(p: KioskTile, digits: Int, triesLeft: Int? = null) = KioskStage.Pin(
        person = p,
        digits = digits.toUInt(),
        triesLeft = triesLeft?.toUInt(),
        wrong = triesLeft?.let { msg("pin.wrong", "count" to it) },
        actions = if (p.onShift) listOf(PunchKind.CLOCK_OUT, PunchKind.BREAK_START, PunchKind.BREAK_END) else listOf(PunchKind.CLOCK_IN),
        complete = digits == 4,
        busy = false,
    )

    private fun done(p: KioskTile, action: PunchKind, key: String, time: String) =
        KioskStage.Done(p, action, time, msg(key, "time" to time), msg("done.thanks", "name" to p.name))

    /** One state per kiosk screen. */
    val states: Map<String, KioskScreenState> = linkedMapOf(
        "tiles" to base,
        "tiles-empty" to emptyKioskState().copy(siteName = "Café"),
        "pin" to base.copy(stage = pin(aisha, 2)),
        "pin-on-shift" to base.copy(stage = pin(ben, 4)),
        "pin-wrong" to base.copy(stage = pin(aisha, 0, triesLeft = 3)),
        "pin-last-try" to base.copy(stage = pin(aisha, 1, triesLeft = 1)),
        "hour-type" to base.copy(
            stage = KioskStage.ChooseHourType(aisha, listOf(HourType.PAID, HourType.VOLUNTEER, HourType.TRAINING), msg("hourType.question")),
        ),
        "confirmation" to base.copy(stage = done(aisha, PunchKind.CLOCK_IN, "done.clockIn", "08:02")),
        "confirmation-clock-out" to base.copy(stage = done(ben, PunchKind.CLOCK_OUT, "done.clockOut", "16:30")),
        "lockout" to base.copy(stage = KioskStage.LockedOut(aisha, 900, msg("locked.body", "name" to aisha.name, "count" to 15))),
        "refused" to base.copy(stage = KioskStage.Refused(aisha, PunchKind.CLOCK_IN, msg("refused.alreadyClockedIn"))),
        "refused-core-words" to base.copy(stage = KioskStage.Refused(aisha, PunchKind.CLOCK_IN, msg("refused.body", "reason" to "something new"))),
        "offline" to base.copy(offline = true, pendingTaps = 3u, badge = msg("offline.waiting", "count" to 3)),
        "offline-pin" to base.copy(offline = true, pendingTaps = 1u, badge = msg("offline.waiting", "count" to 1), stage = pin(aisha, 3)),
    )

    @Test
    fun everyKioskStateRendersInEnglishAndItalian() {
        val written = mutableListOf<String>()
        for ((name, state) in states) {
            val byLanguage = Strings.LANGUAGES.associateWith { lang ->
                val (file, stats) = Screenshots.render("kiosk-$name-$lang") {
                    CompositionLocalProvider(LocalStrings provides Strings.of(lang)) {
                        KioskTheme { KioskScreen(state, onEvent = {}) }
                    }
                }
                Screenshots.assertNotBlank(file, stats)
                written += file.name
                file.readBytes()
            }
            // The words differ, so the pictures must too (catches a screen that ignores the locale).
            assertNotEquals(
                byLanguage.getValue("en").toList(), byLanguage.getValue("it").toList(),
                "kiosk-$name: English and Italian render identically",
            )
        }
        assertTrue(written.size == states.size * Strings.LANGUAGES.size)
        println("screenshots: ${written.size} PNGs in ${Screenshots.dir}")
    }

    @Test
    fun aBlankImageIsCaught() {
        val (file, stats) = Screenshots.render("self-check-blank", 200, 100) {}
        val failed = runCatching { Screenshots.assertNotBlank(file, stats) }.isFailure
        assertTrue(failed, "the blank check passed an empty scene")
        file.delete()
    }
}
