// Scanning the join code on the desktop: the coordinator's screen with a kiosk invite is
// rendered to a PNG, ZXing reads the QR code from that picture, the join screen of a new
// device takes it (relay address and code) and joins as the kiosk. Someone else's QR code and
// a picture with none are refused with words the screen shows. Real library, real relay.
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
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.runComposeUiTest
import com.google.zxing.BarcodeFormat
import com.google.zxing.qrcode.QRCodeWriter
import coop.logbook.desktop.Screenshots.snapshot
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import coop.logbook.ffi.ScreenException
import coop.logbook.ffi.parseJoinPayload
import coop.logbook.ui.Strings
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.coordinator.CoordinatorSection
import coop.logbook.ui.join.JoinApp
import coop.logbook.ui.join.JoinController
import java.awt.image.BufferedImage
import kotlin.io.path.createTempDirectory
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

class JoinQrTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    private fun ComposeUiTest.waitForText(text: String) =
        waitUntil(timeoutMillis = 15_000) { onAllNodes(hasText(text, substring = true)).fetchSemanticsNodes().isNotEmpty() }

    /** A QR code of [text], as a phone camera would see someone else's (white margin, 8 px modules). */
    private fun qrPicture(text: String): BufferedImage {
        val matrix = QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 400, 400)
        val img = BufferedImage(matrix.width, matrix.height, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until matrix.height) for (x in 0 until matrix.width) img.setRGB(x, y, if (matrix[x, y]) 0 else 0xFFFFFF)
        return img
    }

    @Test
    fun aNewDeviceJoinsByReadingTheCoordinatorsInviteQrCodeFromAPicture() = runComposeUiTest {
        val coop = ws.appCoop()
        val coordinator = ws.own(
            CoordinatorController(coop.coordinator.raw, scope, coop.relay.url, coop.zone, createTempDirectory("reports-"), io = Dispatchers.Unconfined),
        )
        runBlocking { coordinator.model.invite(Grant(DeviceRole.KIOSK, null, coop.siteId, emptyList()), null) }
        val invite = coordinator.state.value.invite!!

        // The coordinator's devices screen with the invite, as drawn, to a PNG; read it back.
        val (png, stats) = Screenshots.render("join-qr-coordinator-invite-en", 1280, 2400) {
            CoordinatorApp(coordinator, Strings.of("en"), CoordinatorSection.DEVICES)
        }
        Screenshots.assertNotBlank(png, stats)
        val scanned = QrImage.decode(png)
        assertEquals(invite.payload, scanned, "the QR code in the picture is the invite")
        val parsed = parseJoinPayload(scanned!!)
        assertEquals(coop.relay.url, parsed.relayUrl)
        assertEquals(invite.code, parsed.code)

        // A new device's join screen knows no relay yet: the scan fills both, and it joins.
        val fresh = ws.open("second-kiosk")
        val join = ws.own(JoinController(fresh.raw, scope, "", "second café kiosk"))
        setContent { JoinApp(join, Strings.of("en"), onScan = { QrImage.decode(png) }) {} }
        assertFalse(join.state.value.canJoin)
        onNodeWithTag("join-scan").performClick()
        waitUntil(timeoutMillis = 15_000) { join.state.value.canJoin }
        assertEquals(coop.relay.url, join.state.value.relayUrl)
        assertEquals(invite.code, join.state.value.code)
        snapshot("join-scanned-en")
        onNodeWithContentDescription("Join").performClick()
        waitForText("Done. This device is now where people clock in at Riverside Café Co-op.")
        assertEquals(DeviceRole.KIOSK, fresh.grant?.role)
        assertEquals(coop.siteId, fresh.grant?.siteId)
    }

    @Test
    fun someoneElsesQrCodeOrAPictureWithoutOneIsRefusedInPlainWords() = runComposeUiTest {
        val fresh = ws.open("new-device")
        val join = ws.own(JoinController(fresh.raw, scope, "", "new tablet"))
        val menu = qrPicture("https://example.org/cafe-menu")
        val blank = BufferedImage(400, 400, BufferedImage.TYPE_INT_RGB)
        assertEquals("https://example.org/cafe-menu", QrImage.decode(menu))
        assertNull(QrImage.decode(blank))
        val foreign = assertFailsWith<ScreenException.Refused> { parseJoinPayload("https://example.org/cafe-menu") }
        assertEquals("join.scan.foreign", foreign.reason.key)
        val damaged = assertFailsWith<ScreenException.Refused> { parseJoinPayload("COOP-LOGBOOK-JOIN\nhttps://relay.example") }
        assertEquals("join.scan.damaged", damaged.reason.key)

        var picture by mutableStateOf(menu)
        var lang by mutableStateOf("en")
        setContent { JoinApp(join, Strings.of(lang), onScan = { QrImage.decode(picture) }) {} }
        onNodeWithTag("join-scan").performClick()
        waitForText("This QR code is not a Co-op Logbook invite.")
        assertFalse(join.state.value.canJoin)
        assertEquals("", join.state.value.code)
        snapshot("join-scan-foreign-en")
        lang = "it"
        waitForText("Questo codice QR non è un invito di Co-op Logbook.")
        snapshot("join-scan-foreign-it")

        picture = blank
        onNodeWithTag("join-scan").performClick()
        waitForText("Nessun codice QR letto.")
        lang = "en"
        waitForText("No QR code was read.")
        assertFalse(join.state.value.canJoin)
    }
}
