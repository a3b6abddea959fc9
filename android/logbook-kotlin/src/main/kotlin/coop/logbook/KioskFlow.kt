// The kiosk's PIN flow as plain Kotlin: a tap either punches or yields a result the screen
// can show (wrong PIN, locked out for a while, refused with a reason). The PIN check,
// failure count and lockout live in the Rust core; this turns its errors into UI states.
package coop.logbook

import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.ffi.LogbookException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/** What the kiosk screen shows after a tap. */
sealed interface KioskResult {
    /** The tap was recorded. */
    data class Punched(val punchId: String, val kind: PunchKind) : KioskResult

    /** Wrong PIN: try again (a few more wrong ones lock this person out here). A device
     *  that may not tap at all is [Refused], never a wrong PIN. */
    data object WrongPin : KioskResult

    /** Too many wrong PINs: this person may try again after [retryAfter]. */
    data class LockedOut(val retryAfter: Duration) : KioskResult

    /** Refused for another reason the person can act on ("already clocked in"). */
    data class Refused(val reason: String) : KioskResult
}

class KioskFlow(private val logbook: CoopLogbook) {
    /** The names to show (this kiosk's site). */
    fun roster() = logbook.kiosk.roster(null)

    /** Who is on shift now. */
    fun onShift() = logbook.kiosk.onShift()

    /** Check [pin] for [personId], then record [kind] now. */
    fun tap(personId: String, pin: String, kind: PunchKind, hourType: HourType? = null): KioskResult =
        try {
            KioskResult.Punched(logbook.kiosk.punch(personId, pin, kind, hourType), kind)
        } catch (e: LogbookException.WrongPin) {
            KioskResult.WrongPin
        } catch (e: LogbookException.LockedOut) {
            KioskResult.LockedOut(e.retryAfterSeconds.seconds)
        } catch (e: LogbookException.Forbidden) {
            KioskResult.Refused(e.reason)
        } catch (e: LogbookException.Conflict) {
            KioskResult.Refused(e.reason)
        } catch (e: LogbookException.Invalid) {
            KioskResult.Refused(e.reason)
        }
}
