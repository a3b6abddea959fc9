// The coordinator's screens and a worker's phone driven like people would, against the real
// Rust library and a real relay this test starts: a forgotten clock-out is corrected from
// the review queue, the week approved, and the worker's phone shows the corrected hours
// after it syncs.
@file:OptIn(ExperimentalTestApi::class)

package coop.logbook.desktop

import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.test.ComposeUiTest
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.onNodeWithContentDescription
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextReplacement
import androidx.compose.ui.test.runComposeUiTest
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import coop.logbook.core.HourType
import coop.logbook.core.ShiftStatus
import coop.logbook.desktop.Screenshots.snapshot
import coop.logbook.ui.Strings
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import coop.logbook.ui.worker.WorkerSection
import java.time.LocalDate
import kotlin.io.path.createTempDirectory
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

class AppFlowTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    private fun ComposeUiTest.waitForText(text: String, substring: Boolean = true) =
        waitUntil(timeoutMillis = 15_000) { onAllNodes(hasText(text, substring = substring)).fetchSemanticsNodes().isNotEmpty() }

    @Test
    fun aCoordinatorCorrectsAForgottenClockOutAndTheWorkersPhoneShowsTheHoursAfterSync() = runComposeUiTest {
        val coop = ws.appCoop(phoneFor = "Eilidh Fraser", timezone = eveningZone())
        val eilidh = coop.personId
        // Eilidh clocked in at 00:30 and forgot to clock out: it is evening there now, past
        // the 16-hour review threshold, so her open shift waits in the review queue.
        val today = LocalDate.now(coop.zone)
        val clockIn = today.atTime(0, 30).atZone(coop.zone).toEpochSecond()
        coop.coordinator.timesheets.punch(eilidh, PunchKind.CLOCK_IN, PunchSource.KIOSK, clockIn, HourType.PAID, coop.siteId)
        runBlocking { coop.coordinator.sync() }

        val coordinator = ws.own(CoordinatorController(coop.coordinator.raw, scope, coop.relay.url, coop.zone, createTempDirectory("reports-"), io = Dispatchers.Unconfined))
        val phone = ws.own(WorkerController(coop.phone.raw, scope, io = Dispatchers.Unconfined))
        var showPhone by mutableStateOf(false)
        setContent {
            if (showPhone) WorkerApp(phone, Strings.of("en"), coop.zone, WorkerSection.SYNC)
            else CoordinatorApp(coordinator, Strings.of("en"))
        }

        // The review queue has her shift; open it: no clock-out, nothing counted.
        waitForText("Eilidh Fraser · $today 00:30")
        snapshot("flow-coordinator-review-en")
        onNodeWithContentDescription("Open Eilidh Fraser's shift").performClick()
        waitForText("Eilidh Fraser, shift of $today")
        onNodeWithText("No clock-out").assertExists()
        onNodeWithText("Counted: 0:00 hours").assertExists()

        // Correct the clock-out to 08:30, with a reason: the queue no longer has her shift.
        onNodeWithTag("correct-end").performTextReplacement("08:30")
        onNodeWithTag("correct-reason").performTextReplacement("Forgot to clock out; left at 08:30")
        onNodeWithContentDescription("Save the correction").performClick()
        waitForText("Counted: 8:00 hours")
        waitForText("Corrected, ")
        onNodeWithTag("audit-correction").assertExists()
        assertTrue(coordinator.state.value.review.none { it.personId == eilidh }, "her shift left the review queue")

        // Approve her week.
        onNodeWithContentDescription("Approve the week").performClick()
        waitForText("This week is approved")
        snapshot("flow-coordinator-corrected-approved-en")
        val shift = coop.coordinator.timesheets.shifts(eilidh, today.toString(), today.toString()).single()
        assertEquals(ShiftStatus.CORRECTED, shift.status)
        assertEquals(8L * 3600, shift.countedSeconds)
        assertTrue(coop.coordinator.timesheets.weekState(eilidh, today.toString()).approved)
        runBlocking { coop.coordinator.sync() }

        // Her phone: nothing counted yet; sync, and the corrected hours are there.
        assertTrue(phone.state.value.week.none { it.hourType == HourType.PAID }, "the phone has not synced yet")
        showPhone = true
        waitForText("Sync now")
        onNodeWithContentDescription("Sync now").performClick()
        onNodeWithContentDescription("Hours").performClick()
        waitForText("8:00", substring = false)
        onNodeWithTag("hours-PAID").assertExists()
        snapshot("flow-phone-corrected-hours-en")
        assertEquals(8u * 60u, phone.state.value.week.single { it.hourType == HourType.PAID }.minutes)
    }
}
