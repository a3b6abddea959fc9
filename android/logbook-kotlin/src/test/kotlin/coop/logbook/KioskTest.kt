// The kiosk, end to end against the real library and a real relay: a coordinator sets up
// a site and a PIN, a kiosk joins, a worker clocks in and out there, and the coordinator
// sees the shift. Then the lockout after repeated wrong PINs.
package coop.logbook

import coop.logbook.core.PunchKind
import coop.logbook.core.ShiftStatus
import coop.logbook.ffi.LogbookException
import coop.logbook.testing.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.minutes
import kotlinx.coroutines.delay

class KioskTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    suspend fun aWholeKioskFlowEndsInAShiftTheCoordinatorSees() {
        val coop = ws.smallCoop()
        val kiosk = ws.joinDevice(coop, "bakery kiosk", kioskGrant(coop.siteId))
        val flow = KioskFlow(kiosk)

        assertEquals(listOf("Aisha"), flow.roster().map { it.name })
        val clockIn = assertIs<KioskResult.Punched>(flow.tap(coop.aisha, coop.pin, PunchKind.CLOCK_IN))
        assertEquals(listOf(coop.aisha), flow.onShift().map { it.personId })
        // Taps are ordered by device time in whole seconds: clock out in a later second.
        delay(1_100)
        assertIs<KioskResult.Punched>(flow.tap(coop.aisha, coop.pin, PunchKind.CLOCK_OUT))
        assertTrue(flow.onShift().isEmpty(), "nobody is on shift after clocking out")

        assertTrue(kiosk.pendingChanges > 0)
        kiosk.sync()
        assertEquals(0, kiosk.pendingChanges)
        coop.coordinator.sync()

        val shift = coop.coordinator.timesheets.shifts(coop.aisha, null, null).single()
        assertEquals(clockIn.punchId, shift.id, "a shift's id is its clock-in punch id")
        assertEquals(ShiftStatus.COMPLETE, shift.status)
        assertNotNull(shift.end)
        assertTrue(shift.end!! > shift.start)
        assertEquals(coop.coordinator.today(), shift.localDate)
    }

    @Test
    suspend fun wrongPinsLockAPersonOutAtTheKiosk() {
        val coop = ws.smallCoop()
        val kiosk = ws.joinDevice(coop, "bakery kiosk", kioskGrant(coop.siteId))
        val flow = KioskFlow(kiosk)
        val allowed = coop.coordinator.coop.settings.pinMaxFailures.toInt()

        repeat(allowed - 1) {
            assertEquals(KioskResult.WrongPin, flow.tap(coop.aisha, "0000", PunchKind.CLOCK_IN))
        }
        val locked = assertIs<KioskResult.LockedOut>(flow.tap(coop.aisha, "0000", PunchKind.CLOCK_IN))
        assertTrue(locked.retryAfter > 14.minutes && locked.retryAfter <= 15.minutes, "${locked.retryAfter}")

        // While locked out even the right PIN waits, and nothing is punched.
        assertIs<KioskResult.LockedOut>(flow.tap(coop.aisha, coop.pin, PunchKind.CLOCK_IN))
        val e = assertFailsWith<LogbookException.LockedOut> { kiosk.kiosk.checkPin(coop.aisha, coop.pin) }
        assertTrue(e.retryAfterSeconds in 1..900, "${e.retryAfterSeconds}")
        assertTrue(flow.onShift().isEmpty())
        assertEquals(0, kiosk.pendingChanges)
    }

    @Test
    suspend fun aRightPinClearsEarlierMistakes() {
        val coop = ws.smallCoop()
        val kiosk = ws.joinDevice(coop, "bakery kiosk", kioskGrant(coop.siteId))
        val flow = KioskFlow(kiosk)
        val allowed = coop.coordinator.coop.settings.pinMaxFailures.toInt()

        repeat(allowed - 1) { flow.tap(coop.aisha, "9999", PunchKind.CLOCK_IN) }
        assertIs<KioskResult.Punched>(flow.tap(coop.aisha, coop.pin, PunchKind.CLOCK_IN))
        // The count started again: one more mistake is only a wrong PIN.
        assertEquals(KioskResult.WrongPin, flow.tap(coop.aisha, "9999", PunchKind.CLOCK_OUT))
        assertEquals(
            KioskResult.Refused("already clocked in"),
            flow.tap(coop.aisha, coop.pin, PunchKind.CLOCK_IN),
        )
    }

    @Test
    suspend fun aKioskTapWithoutThePinIsRefusedAndAWrongPinIsNotARoleRefusal() {
        val coop = ws.smallCoop()
        val kiosk = ws.joinDevice(coop, "bakery kiosk", kioskGrant(coop.siteId))
        val e = assertFailsWith<LogbookException.Forbidden> { kiosk.timesheets.clockIn(coop.aisha, null) }
        assertTrue("PIN" in e.reason, e.reason)
        assertEquals(0, kiosk.pendingChanges, "nothing was written")
        val wrong = assertFailsWith<LogbookException.WrongPin> { kiosk.kiosk.checkPin(coop.aisha, "0000") }
        assertEquals(coop.coordinator.coop.settings.pinMaxFailures - 1u, wrong.triesLeft)
        // A phone (not a kiosk) is refused the kiosk flow for a role reason: shown as such.
        val phone = ws.joinDevice(coop, "Aisha's phone", workerGrant(coop.aisha))
        assertIs<KioskResult.Refused>(KioskFlow(phone).tap(coop.aisha, coop.pin, PunchKind.CLOCK_IN))
    }
}
