// The coordinator's side through the bindings: corrections with an audit trail, approvals and
// week locks, training with certificate expiry, CPO progress, reports and subject access.
package coop.logbook

import coop.logbook.core.HourType
import coop.logbook.core.NewTraining
import coop.logbook.core.PersonRole
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import coop.logbook.core.ShiftCorrection
import coop.logbook.core.ShiftStatus
import coop.logbook.ffi.LogbookException
import coop.logbook.testing.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

class ReviewTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    private val monday = 1_793_577_600L // 2026-11-02 00:00 UTC

    @Test
    fun aCorrectionIsKeptInTheHistoryAndALockedWeekRefusesMore() {
        val book = ws.open("coordinator")
        book.initCoop("Bakery", "UTC")
        val site = book.directory.addSite("Bakery")
        val dan = book.directory.addPerson("Dan", listOf(PersonRole.WORKER), listOf(site), false)
        val start = monday + 9 * 3600
        val shiftId = book.timesheets.punch(dan, PunchKind.CLOCK_IN, PunchSource.COORDINATOR, start, HourType.PAID, null)
        book.timesheets.punch(dan, PunchKind.CLOCK_OUT, PunchSource.COORDINATOR, start + 8 * 3600, null, null)

        // Dan forgot to clock out at 15:00, not 17:00.
        book.timesheets.correctShift(shiftId, ShiftCorrection(null, start + 6 * 3600, null, null, false, "left at 15:00"))
        val shift = book.timesheets.shifts(dan, "2026-11-02", "2026-11-02").single()
        assertEquals(ShiftStatus.CORRECTED, shift.status)
        assertEquals(6 * 3600L, shift.countedSeconds)
        val history = book.timesheets.shiftHistory(shiftId)
        assertEquals("left at 15:00", history.single().reason)
        assertContains(history.single().before!!, "\"counted_seconds\":28800")

        book.timesheets.reviewWeek("2026-11-04", emptyList(), false)
        assertEquals(true to false, book.timesheets.weekState(dan, "2026-11-02").let { it.approved to it.locked })
        book.timesheets.reviewWeek("2026-11-04", listOf(dan), true)
        assertTrue(book.timesheets.weekState(dan, "2026-11-08").locked)
        val refused = assertFailsWith<LogbookException.Conflict> {
            book.timesheets.correctShift(shiftId, ShiftCorrection(null, null, null, null, true, "void it"))
        }
        assertContains(refused.reason, "locked")

        val csv = book.reports.hoursCsv("2026-11-01", "2026-11-30").lines()
        assertEquals("person_id,person_name,hour_type,shifts,minutes", csv[0])
        assertEquals("$dan,Dan,paid,1,360", csv[1])
        val export = book.reports.exportPerson(dan)
        assertContains(export, "\"name\": \"Dan\"")
        assertContains(export, "left at 15:00")
    }

    @Test
    fun trainingAndCpoProgressAreReadable() {
        val book = ws.open("coordinator")
        book.initCoop("Bakery", "UTC")
        val site = book.directory.addSite("Bakery")
        val eve = book.directory.addPerson("Eve", listOf(PersonRole.WORKER), listOf(site), true)
        val course = book.training.addCourse("First aid", 36u)
        book.training.add(NewTraining(eve, course, "2026-11-03", 240u, "Red Cross", "FA-77", null, true, true))
        val record = book.training.records(eve).single()
        assertEquals("2029-11-03", record.expiresOn)
        assertEquals("First aid", record.courseName)
        book.training.signInduction(eve, "Fire exits", true, false)
        assertEquals(listOf("Fire exits"), book.training.induction(eve).map { it.label })

        val order = book.cpo.setOrder(eve, 40u, "2026-11-02", null)
        val at = monday + 10 * 3600
        book.timesheets.punch(eve, PunchKind.CLOCK_IN, PunchSource.COORDINATOR, at, HourType.CPO_UNPAID_WORK, null)
        book.timesheets.punch(eve, PunchKind.CLOCK_OUT, PunchSource.COORDINATOR, at + 4 * 3600, null, null)
        val progress = book.cpo.progress(eve).single()
        assertEquals(order, progress.orderId)
        assertEquals(240u, progress.unpaidWorkMinutes)
        assertEquals(40u * 60u - 240u, progress.leftMinutes)
    }
}
