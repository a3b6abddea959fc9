// A supporter's new device asks to read a worker's notes; the worker sees who asks and the
// device's code on the phone's notes tab, says yes, and after a sync the supporter's device
// reads the notes. Before that it reads none. The real Rust library and a real relay.
@file:OptIn(ExperimentalTestApi::class)

package coop.logbook.desktop

import androidx.compose.ui.test.ComposeUiTest
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.onNodeWithContentDescription
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.runComposeUiTest
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import coop.logbook.ffi.deviceCheckCode
import coop.logbook.desktop.Screenshots.snapshot
import coop.logbook.ui.Strings
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import coop.logbook.ui.worker.WorkerSection
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

class NotesApprovalUiTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    private fun ComposeUiTest.waitForText(text: String) =
        waitUntil(timeoutMillis = 15_000) { onAllNodes(hasText(text, substring = true)).fetchSemanticsNodes().isNotEmpty() }

    @Test
    fun aSupportersDeviceReadsTheNotesAfterTheWorkerApprovesItOnThePhone() = runComposeUiTest {
        // Aisha's phone wrote her notes (so it made her notes key) and synced.
        val coop = ws.appCoop()
        val aisha = coop.personId
        val firstNote = "First week went well. Wants more morning shifts."
        assertTrue(coop.phone.notes.threads(aisha).isNotEmpty())

        // Her supporter's tablet joins: it trusts the coop's devices, but has no notes key.
        val code = runBlocking { coop.coordinator.invite(Grant(DeviceRole.SUPPORTER, null, null, listOf(aisha))).code }
        val tablet = ws.open("supporter-tablet")
        runBlocking {
            tablet.join(coop.relay.url, code, "Sam's tablet")
            tablet.sync()
            // The coordinator's laptop vouches for the device it invited at its next sync.
            coop.coordinator.sync()
        }
        fun tabletReads() = tablet.notes.threads(aisha).flatMap { t -> t.entries.map { it.text } }
        assertTrue(firstNote !in tabletReads(), "no key, no notes")
        val tabletKey = tablet.raw.deviceKey()
        val tabletCode = deviceCheckCode(tabletKey)

        // Aisha's phone: the notes tab; a sync brings the tablet, which asks, with its code.
        val phone = ws.own(WorkerController(coop.phone.raw, scope, io = Dispatchers.Unconfined))
        setContent { WorkerApp(phone, Strings.of("en"), coop.zone, WorkerSection.SYNC) }
        onNodeWithContentDescription("Sync now").performClick()
        waitUntil(timeoutMillis = 15_000) { phone.state.value.notesAccess.asking.isNotEmpty() }
        onNodeWithTag("tab-NOTES").performClick()
        waitForText("Devices asking to read your notes")
        onNodeWithTag("asking-$tabletKey").assertExists()
        waitForText("Your supporter's device")
        waitForText("Code: $tabletCode")
        waitForText("If you say yes, that device can read all your notes")
        snapshot("phone-notes-access-asking-en")

        // Yes: the phone hands the key over with the sync the approval starts.
        onNodeWithTag("approve-$tabletKey").performClick()
        waitForText("Done. That device can read your notes once it syncs.")
        waitForText("Devices that can read your notes")
        onNodeWithTag("reader-$tabletKey").assertExists()
        assertTrue(phone.state.value.notesAccess.asking.isEmpty())
        snapshot("phone-notes-access-approved-en")

        // The tablet's next sync brings the key: it reads her notes.
        runBlocking { tablet.sync() }
        assertTrue(firstNote in tabletReads(), "the supporter reads the notes: ${tabletReads().size} entries")
        assertEquals(coop.phone.notes.threads(aisha).size, tablet.notes.threads(aisha).size)
    }

    @Test
    fun notNowPutsTheRequestAsideAndTheItalianScreenSaysWhoAsks() = runComposeUiTest {
        val coop = ws.appCoop()
        val aisha = coop.personId
        val code = runBlocking { coop.coordinator.invite(Grant(DeviceRole.SUPPORTER, null, null, listOf(aisha))).code }
        val tablet = ws.open("supporter-tablet")
        runBlocking {
            tablet.join(coop.relay.url, code, "Sam's tablet")
            tablet.sync()
            // The coordinator's laptop vouches for the device it invited at its next sync.
            coop.coordinator.sync()
        }
        val tabletKey = tablet.raw.deviceKey()
        val phone = ws.own(WorkerController(coop.phone.raw, scope, io = Dispatchers.Unconfined))
        runBlocking { phone.model.sync() }
        assertEquals(listOf(tabletKey), phone.state.value.notesAccess.asking.map { it.deviceKey })

        // Italian: the phone's notes tab with the request, to a PNG too.
        val (file, stats) = Screenshots.render("phone-notes-access-asking-it", 420, 1100) {
            WorkerApp(phone, Strings.of("it"), coop.zone, WorkerSection.NOTES)
        }
        Screenshots.assertNotBlank(file, stats)
        setContent { WorkerApp(phone, Strings.of("it"), coop.zone, WorkerSection.NOTES) }
        waitForText("Il dispositivo del tuo tutor")
        waitForText("Codice: ${deviceCheckCode(tabletKey)}")

        // Non ora: the request leaves the screen; nothing changes for the tablet.
        onNodeWithTag("not-now-$tabletKey").performClick()
        waitUntil(timeoutMillis = 15_000) { phone.state.value.notesAccess.asking.isEmpty() }
        onNodeWithTag("asking-$tabletKey").assertDoesNotExist()
        runBlocking { tablet.sync() }
        assertTrue(tablet.notes.threads(aisha).flatMap { it.entries }.isEmpty(), "not now is not yes")
    }
}
