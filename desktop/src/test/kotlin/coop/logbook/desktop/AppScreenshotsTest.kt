// Every screen of the worker's phone and the coordinator's screens, drawn from the real Rust
// models on a demo coop joined to a real relay, in English and Italian, to
// target/screenshots/ (the kiosk's are KioskScreenshotsTest's). A screen fails the test if it
// renders blank, if English and Italian look the same, or (the tests run with
// -Dlogbook.strings.strict=true) if it asks for a string key a language lacks.
package coop.logbook.desktop

import coop.logbook.core.PersonRole
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import coop.logbook.ffi.ReviewKind
import coop.logbook.ui.Strings
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.coordinator.CoordinatorSection
import coop.logbook.ui.join.JoinApp
import coop.logbook.ui.join.JoinController
import coop.logbook.ui.kiosk.KioskController
import coop.logbook.ui.kiosk.KioskRoute
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import coop.logbook.ui.worker.WorkerSection
import kotlin.io.path.createTempDirectory
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

class AppScreenshotsTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    /** Render one screen in every language; check each is drawn and the languages differ. */
    private fun shoot(name: String, width: Int, height: Int, content: @androidx.compose.runtime.Composable (Strings) -> Unit): Int {
        val pictures = Strings.LANGUAGES.associateWith { lang ->
            val (file, stats) = Screenshots.render("$name-$lang", width, height) { content(Strings.of(lang)) }
            Screenshots.assertNotBlank(file, stats)
            file.readBytes().toList()
        }
        assertNotEquals(pictures.getValue("en"), pictures.getValue("it"), "$name: English and Italian render identically")
        return pictures.size
    }

    @Test
    fun everyPhoneAndCoordinatorScreenRendersInEnglishAndItalian() {
        val coop = ws.appCoop(phoneFor = "Aisha Khan")
        runBlocking { coop.phone.sync() }
        var written = 0

        // The worker's phone (Aisha: hours today, training due, a shared note thread).
        val phone = ws.own(WorkerController(coop.phone.raw, scope))
        assertTrue(phone.state.value.week.isNotEmpty(), "Aisha's phone shows her hours")
        for (section in WorkerSection.entries) {
            written += shoot("phone-${section.name.lowercase()}", 420, 860) { WorkerApp(phone, it, coop.zone, section) }
        }
        // Dawit has a community payback order (drawn from the coordinator's store).
        val dawit = demoPerson(coop.coordinator, "Dawit Bekele")
        val dawitPhone = ws.own(WorkerController(coop.coordinator.raw, scope, dawit))
        assertTrue(dawitPhone.state.value.cpo.isNotEmpty())
        written += shoot("phone-cpo-order", 420, 860) { WorkerApp(dawitPhone, it, coop.zone, WorkerSection.CPO) }

        // The coordinator: Chiara's forgotten clock-out waits in the review queue; open it; make a
        // kiosk invite (with its QR code) and load the devices from the relay.
        val coordinator = ws.own(CoordinatorController(coop.coordinator.raw, scope, coop.relay.url, coop.zone, createTempDirectory("reports-")))
        val chiara = coordinator.state.value.review.first { it.kind == ReviewKind.NEEDS_REVIEW && it.personName == "Chiara Rossi" }
        written += shoot("coordinator-review", 1280, 860) { CoordinatorApp(coordinator, it, CoordinatorSection.REVIEW) }
        coordinator.model.openShift(chiara.shiftId)
        assertNotNull(coordinator.state.value.openShift)
        written += shoot("coordinator-review-shift", 1280, 1100) { CoordinatorApp(coordinator, it, CoordinatorSection.REVIEW) }
        runBlocking {
            coordinator.model.invite(Grant(DeviceRole.KIOSK, null, coop.siteId, emptyList()), null)
            coordinator.model.loadDevices()
        }
        assertTrue(coordinator.state.value.invite!!.qrModules.any { it })
        assertTrue(coordinator.state.value.devices.size >= 2, "the laptop and Aisha's phone")
        for (section in CoordinatorSection.entries.filter { it != CoordinatorSection.REVIEW }) {
            val height = if (section == CoordinatorSection.PEOPLE || section == CoordinatorSection.DEVICES) 1300 else 860
            written += shoot("coordinator-${section.name.lowercase()}", 1280, height) { CoordinatorApp(coordinator, it, section) }
        }
        assertTrue(coordinator.state.value.people.any { PersonRole.WORKER in it.roles })

        // The kiosk of the same coop, from the real model (the other kiosk states are drawn
        // from hand-made states in KioskScreenshotsTest).
        val kiosk = ws.own(KioskController(coop.coordinator.raw, scope, siteId = coop.siteId))
        written += shoot("kiosk-real-roster", 1280, 800) { KioskRoute(kiosk, it) }

        // The join screen of a new device.
        val fresh = ws.open("new-device")
        val join = ws.own(JoinController(fresh.raw, scope, coop.relay.url, "new tablet"))
        join.setCode("NOT-A-CODE")
        runBlocking { join.model.join("new tablet") }
        written += shoot("join-failed", 800, 700) { JoinApp(join, it) {} }

        println("screenshots: $written PNGs of the phone, coordinator and kiosk in ${Screenshots.dir}")
        assertTrue(written >= (WorkerSection.entries.size + CoordinatorSection.entries.size + 4) * 2)
    }
}
