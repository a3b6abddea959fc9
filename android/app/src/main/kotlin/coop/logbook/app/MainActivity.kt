// One activity, three modes, chosen by the grant this device joined with: a kiosk grant shows
// the café kiosk (pinned in lock-task mode, screen kept on), a worker grant the worker's
// phone, a coordinator grant the coordinator's screens. A device that has not joined shows
// the join screen, whose scan button opens the camera (zxing-android-embedded) and hands the
// QR code's text to the Rust join model. Everything drawn comes from the Rust screen models
// through the shared Compose screens, in the words of the app's string resources
// (AndroidStrings); this file only picks the mode and sets up the window.
package coop.logbook.app

import android.app.ActivityManager
import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.lifecycle.lifecycleScope
import com.journeyapps.barcodescanner.ScanContract
import com.journeyapps.barcodescanner.ScanOptions
import coop.logbook.ffi.DeviceRole
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.join.JoinApp
import coop.logbook.ui.join.JoinController
import coop.logbook.ui.kiosk.KioskController
import coop.logbook.ui.kiosk.KioskRoute
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import java.time.ZoneId
import kotlinx.coroutines.CompletableDeferred

class MainActivity : ComponentActivity() {
    private var close: AutoCloseable? = null

    // The camera scanner: one scan at a time; its text (null: cancelled or nothing read).
    private var scanned: CompletableDeferred<String?>? = null
    private val scanner = registerForActivityResult(ScanContract()) { result -> scanned?.complete(result.contents) }

    private suspend fun scanQrCode(prompt: String): String? {
        scanned?.cancel()
        val result = CompletableDeferred<String?>().also { scanned = it }
        scanner.launch(
            ScanOptions()
                .setDesiredBarcodeFormats(ScanOptions.QR_CODE)
                .setPrompt(prompt)
                .setBeepEnabled(false)
                .setOrientationLocked(false),
        )
        return result.await()
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        show()
    }

    private fun show() {
        close?.close()
        val book = logbook
        val strings = AndroidStrings.of(this)
        val zone = runCatching { ZoneId.of(book.coop.timezone) }.getOrDefault(ZoneId.systemDefault())
        when (book.grant?.role) {
            null -> {
                val c = JoinController(book.raw, lifecycleScope, relayUrl = BuildDefaults.RELAY_URL, deviceName = android.os.Build.MODEL)
                close = c
                setContent {
                    JoinApp(c, strings, onScan = { scanQrCode(strings["join.scan"]) }) {
                        runOnUiThread { SyncWorker.soon(this); show() }
                    }
                }
            }
            DeviceRole.KIOSK -> {
                enterKioskMode()
                val c = KioskController(book.raw, lifecycleScope)
                close = c
                setContent { KioskRoute(c, strings) }
            }
            DeviceRole.WORKER, DeviceRole.SUPPORTER -> {
                val c = WorkerController(book.raw, lifecycleScope)
                close = c
                setContent { WorkerApp(c, strings, zone) }
            }
            DeviceRole.COORDINATOR -> {
                val c = CoordinatorController(book.raw, lifecycleScope, BuildDefaults.RELAY_URL, zone, filesDir.toPath().resolve("reports"))
                close = c
                setContent { CoordinatorApp(c, strings) }
            }
        }
    }

    /** Keep the screen on, and pin the app if the device owner allows it (README: set-up). */
    private fun enterKioskMode() {
        window.addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON)
        val dpm = getSystemService(Context.DEVICE_POLICY_SERVICE) as DevicePolicyManager
        val admin = ComponentName(this, KioskAdminReceiver::class.java)
        if (dpm.isDeviceOwnerApp(packageName)) dpm.setLockTaskPackages(admin, arrayOf(packageName))
        val am = getSystemService(Context.ACTIVITY_SERVICE) as ActivityManager
        if (dpm.isLockTaskPermitted(packageName) && am.lockTaskModeState == ActivityManager.LOCK_TASK_MODE_NONE) startLockTask()
    }

    override fun onDestroy() {
        close?.close()
        super.onDestroy()
    }
}

/** The relay a fresh install offers on the join screen (the code's QR carries its own). */
object BuildDefaults {
    const val RELAY_URL = "https://relay.example.coop"
}
