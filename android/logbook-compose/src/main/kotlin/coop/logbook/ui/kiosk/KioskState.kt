// What a person can do on the café kiosk, as plain events. What the kiosk SHOWS is the Rust
// screen model's state (coop.logbook.ffi.KioskScreenState, crate logbook-screens): the stages,
// tries left, the lockout countdown, the offline badge and every message key come from Rust,
// so Android, the desktop and iOS draw the same kiosk. This file only names the taps.
package coop.logbook.ui.kiosk

import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.ffi.KioskScreenState
import coop.logbook.ffi.KioskStage

/** Digits in a kiosk PIN (the core accepts exactly four). */
const val PIN_LENGTH = 4

sealed interface KioskEvent {
    data class PickPerson(val personId: String) : KioskEvent
    data class Digit(val digit: Int) : KioskEvent
    data object DeleteDigit : KioskEvent
    data class Act(val action: PunchKind) : KioskEvent
    data class ChooseHourType(val hourType: HourType) : KioskEvent
    /** Back to the names (back button, Done). The idle return is the model's own. */
    data object BackToTiles : KioskEvent
}

/** An empty kiosk (before the model's first state arrives). */
fun emptyKioskState() = KioskScreenState(
    siteName = "",
    people = emptyList(),
    onShift = emptyList(),
    stage = KioskStage.Tiles,
    offline = false,
    pendingTaps = 0u,
    badge = null,
)
