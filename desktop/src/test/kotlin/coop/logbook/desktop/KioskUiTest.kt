// The kiosk screen driven like a person would (clicks on the tiles, the PIN keys and the
// action buttons), against the real Rust library and a real relay this test starts.
@file:OptIn(ExperimentalTestApi::class)

package coop.logbook.desktop

import androidx.compose.ui.test.ComposeUiTest
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.assertIsEnabled
import androidx.compose.ui.test.assertIsNotEnabled
import androidx.compose.ui.test.onNodeWithContentDescription
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.runComposeUiTest
import coop.logbook.core.ShiftStatus
import coop.logbook.desktop.Screenshots.snapshot
import coop.logbook.ui.Strings
import coop.logbook.ui.kiosk.KioskController
import coop.logbook.ui.kiosk.KioskRoute
import coop.logbook.ffi.KioskStage
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

class KioskUiTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    private fun presenter(coop: KioskCoop, outcomeSeconds: Long = 60) =
        ws.own(KioskController(coop.kiosk.raw, scope, outcomeSeconds = outcomeSeconds, tickMillis = 200, io = Dispatchers.Unconfined))

    private fun ComposeUiTest.typePin(pin: String) {
        pin.forEach { onNodeWithContentDescription("Digit $it").performClick() }
    }

    private fun ComposeUiTest.waitForText(text: String, substring: Boolean = true) =
        waitUntil(timeoutMillis = 10_000) { onAllNodesWithTextCount(text, substring) > 0 }

    private fun ComposeUiTest.onAllNodesWithTextCount(text: String, substring: Boolean) =
        onAllNodes(androidx.compose.ui.test.hasText(text, substring = substring)).fetchSemanticsNodes().size

    @Test
    fun aWorkerClocksInAndOutThroughThePinPad() = runComposeUiTest {
        val coop = ws.kioskCoop()
        val presenter = presenter(coop, outcomeSeconds = 2)
        setContent { KioskRoute(presenter, Strings.of("en")) }

        onNodeWithText("Tap your name").assertExists()
        onNodeWithText("Nobody is on shift yet").assertExists()
        onNodeWithContentDescription("Aisha Khan: tap to clock in or out").performClick()

        onNodeWithText("Hello Aisha Khan").assertExists()
        onNodeWithContentDescription("Clock in").assertIsNotEnabled()
        typePin(KioskCoop.AISHA_PIN)
        onNodeWithContentDescription("4 of 4 digits typed").assertExists()
        snapshot("flow-pin-complete-en")
        onNodeWithContentDescription("Clock in").assertIsEnabled().performClick()

        waitForText("Clocked in at ")
        onNodeWithText("Thank you, Aisha Khan").assertExists()
        snapshot("flow-clocked-in-en")
        assertEquals(listOf(coop.aisha), coop.kiosk.kiosk.onShift().map { it.personId }, "the real store has her on shift")

        // A few idle seconds later the names are back, and she shows as on shift.
        waitForText("Tap your name")
        onNodeWithText("On shift now: Aisha Khan").assertExists()
        snapshot("flow-tiles-on-shift-en")

        // Taps are ordered by device time in whole seconds: clock out in a later second.
        Thread.sleep(1_100)
        onNodeWithContentDescription("Aisha Khan, on shift: tap to clock out or take a break").performClick()
        onNodeWithContentDescription("Start break").assertExists()
        typePin(KioskCoop.AISHA_PIN)
        onNodeWithContentDescription("Clock out").performClick()
        waitForText("Clocked out at ")
        onNodeWithContentDescription("Done").performClick()
        waitForText("Nobody is on shift yet")

        // The kiosk's taps reach the coordinator as one complete shift.
        runBlocking {
            assertTrue(presenter.sync(), "the relay is up")
            coop.coordinator.sync()
        }
        val shift = coop.coordinator.timesheets.shifts(coop.aisha, null, null).single()
        assertEquals(ShiftStatus.COMPLETE, shift.status)
    }

    @Test
    fun aBreakIsRecordedAndASecondBreakIsRefusedInPlainWords() = runComposeUiTest {
        val coop = ws.kioskCoop()
        val presenter = presenter(coop)
        setContent { KioskRoute(presenter, Strings.of("en")) }

        onNodeWithContentDescription("Ben Murray: tap to clock in or out").performClick()
        typePin(KioskCoop.BEN_PIN)
        onNodeWithContentDescription("Clock in").performClick()
        waitForText("Clocked in at ")
        onNodeWithContentDescription("Done").performClick()
        Thread.sleep(1_100)

        onNodeWithContentDescription("Ben Murray, on shift: tap to clock out or take a break").performClick()
        typePin(KioskCoop.BEN_PIN)
        onNodeWithContentDescription("Start break").performClick()
        waitForText("Break started at ")
        onNodeWithContentDescription("Done").performClick()
        Thread.sleep(1_100)

        onNodeWithContentDescription("Ben Murray, on shift: tap to clock out or take a break").performClick()
        typePin(KioskCoop.BEN_PIN)
        onNodeWithContentDescription("Start break").performClick()
        waitForText("That did not work")
        onNodeWithText("You are already on a break.").assertExists()
        snapshot("flow-refused-en")
        onNodeWithContentDescription("Back to the names").performClick()

        onNodeWithContentDescription("Ben Murray, on shift: tap to clock out or take a break").performClick()
        typePin(KioskCoop.BEN_PIN)
        onNodeWithContentDescription("End break").performClick()
        waitForText("Break ended at ")
    }

    @Test
    fun anUntouchedPinPadGoesBackToTheNames() = runComposeUiTest {
        val coop = ws.kioskCoop()
        // Idle for 3 s: long enough that the two checks after typing run before it on a busy
        // CI machine (1 s failed under load), short enough for waitForText's timeout.
        val presenter = ws.own(KioskController(coop.kiosk.raw, scope, pinIdleSeconds = 3, tickMillis = 200, io = Dispatchers.Unconfined))
        setContent { KioskRoute(presenter, Strings.of("en")) }
        onNodeWithContentDescription("Aisha Khan: tap to clock in or out").performClick()
        typePin("12")
        onNodeWithContentDescription("2 of 4 digits typed").assertExists()
        waitForText("Tap your name")
        // The half-typed PIN is gone: picking her again starts from nothing.
        onNodeWithContentDescription("Aisha Khan: tap to clock in or out").performClick()
        onNodeWithContentDescription("0 of 4 digits typed").assertExists()
    }

    @Test
    fun aWrongPinShowsTriesLeftThenLockout() = runComposeUiTest {
        val coop = ws.kioskCoop()
        val presenter = presenter(coop)
        setContent { KioskRoute(presenter, Strings.of("en")) }
        // A joined kiosk cannot read coop() yet (NotInitialised): the coordinator can.
        val allowed = coop.coordinator.coop.settings.pinMaxFailures.toInt()

        onNodeWithContentDescription("Ben Murray: tap to clock in or out").performClick()
        for (mistake in 1 until allowed) {
            typePin("0000")
            onNodeWithContentDescription("Clock in").performClick()
            val left = allowed - mistake
            waitForText(if (left == 1) "Wrong PIN. 1 try left." else "Wrong PIN. $left tries left.", substring = false)
            onNodeWithContentDescription("0 of 4 digits typed").assertExists()
            if (left == 1) snapshot("flow-last-try-en")
        }
        typePin("0000")
        onNodeWithContentDescription("Clock in").performClick()
        waitForText("Too many wrong PINs")
        onNodeWithText("Ben Murray, please wait 15 minutes and try again, or ask a coordinator.").assertExists()
        snapshot("flow-locked-out-en")
        assertIs<KioskStage.LockedOut>(presenter.state.value.stage)

        // Locked out: picking his name again goes straight to the lockout (no PIN pad, so not
        // even the right PIN is taken), and nothing is punched.
        onNodeWithContentDescription("Back to the names").performClick()
        onNodeWithContentDescription("Ben Murray: tap to clock in or out").performClick()
        waitForText("Too many wrong PINs")
        onNodeWithContentDescription("Digit 5").assertDoesNotExist()
        assertTrue(coop.kiosk.kiosk.onShift().isEmpty())
    }

    @Test
    fun italianKioskCountsTriesLeftInItalian() = runComposeUiTest {
        val coop = ws.kioskCoop()
        val presenter = presenter(coop)
        setContent { KioskRoute(presenter, Strings.of("it")) }

        onNodeWithText("Tocca il tuo nome").assertExists()
        onNodeWithContentDescription("Aisha Khan: tocca per entrare o uscire").performClick()
        "9999".forEach { onNodeWithContentDescription("Cifra $it").performClick() }
        onNodeWithContentDescription("Entrata").performClick()
        waitForText("PIN sbagliato. Ti restano 4 tentativi.", substring = false)
        snapshot("flow-wrong-pin-it")
        "1234".forEach { onNodeWithContentDescription("Cifra $it").performClick() }
        onNodeWithContentDescription("Entrata").performClick()
        waitForText("Entrata registrata alle ")
    }

    @Test
    fun theOfflineBadgeCountsTapsWaitingToSync() = runComposeUiTest {
        val coop = ws.kioskCoop()
        val presenter = presenter(coop)
        setContent { KioskRoute(presenter, Strings.of("en")) }
        onNodeWithTag("offline-badge").assertDoesNotExist()

        coop.relay.stop()
        onNodeWithContentDescription("Ben Murray: tap to clock in or out").performClick()
        typePin(KioskCoop.BEN_PIN)
        onNodeWithContentDescription("Clock in").performClick()
        waitForText("Clocked in at ")

        assertEquals(false, runBlocking { presenter.sync() }, "the relay is down")
        val pending = coop.kiosk.pendingChanges.toInt()
        assertTrue(pending > 0, "the tap waits to sync")
        val expected = if (pending == 1) "Offline: 1 tap waiting to sync" else "Offline: $pending taps waiting to sync"
        waitUntil(timeoutMillis = 10_000) {
            onAllNodes(androidx.compose.ui.test.hasContentDescription(expected)).fetchSemanticsNodes().isNotEmpty()
        }
        onNodeWithTag("offline-badge").assertExists()
        onNodeWithContentDescription("Done").performClick()
        waitForText("Tap your name")
        snapshot("flow-offline-en")
    }
}
