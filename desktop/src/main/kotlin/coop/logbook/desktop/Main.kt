// The desktop app: the café kiosk, a worker's phone screen or the coordinator's screens, in
// one window, over the Rust screen models.
//
//   mvn -B -q -f desktop/pom.xml compile exec:exec                                  (kiosk, demo coop)
//   mvn -B -q -f desktop/pom.xml compile exec:exec -Dapp.args="--mode phone"
//   mvn -B -q -f desktop/pom.xml compile exec:exec -Dapp.args="--mode coordinator --locale it"
//   LOGBOOK_PASSPHRASE=... mvn ... -Dapp.args="--mode join --home DIR"   (a new device)
//
// Options: --mode kiosk|phone|coordinator|join, --home DIR (the store, encrypted at rest under the
// passphrase in LOGBOOK_PASSPHRASE; default a fresh temporary demo store under a key held in
// memory), --locale en|it, --site SITE_ID (kiosk: which site's names), --person NAME_OR_ID
// (phone: whose; default the person a joined phone was linked for, or the demo's Aisha Khan),
// --relay URL (coordinator: written into invite QR codes), --sync-seconds N (how often a
// joined store syncs; default 30).
// --mode join: the join screen (type the code, or "scan" the invite QR code from a picture
// file); once joined, the window shows the mode the code granted (a supporter's device: the
// join screen's confirmation). An empty or new --home gets the demo coop (Demo.kt), except in
// join mode. A store joined to a relay (logbook
// join ...) shows its own data and syncs in the background.
package coop.logbook.desktop

import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.withFrameNanos
import androidx.compose.ui.unit.DpSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import coop.logbook.CoopLogbook
import coop.logbook.InMemoryStoreKeys
import coop.logbook.ffi.DeviceRole
import coop.logbook.ui.Strings
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.join.JoinApp
import coop.logbook.ui.join.JoinController
import coop.logbook.ui.kiosk.KioskController
import coop.logbook.ui.kiosk.KioskRoute
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import java.nio.file.Path
import java.time.ZoneId
import kotlin.io.path.createTempDirectory
import kotlin.system.exitProcess
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

enum class Mode { KIOSK, PHONE, COORDINATOR, JOIN }

private class Options(args: Array<String>) {
    var mode = Mode.KIOSK
    var home: Path? = null
    var locale = "en"
    var site: String? = null
    var person: String? = null
    var relay = ""
    var syncSeconds = 30L

    init {
        var i = 0
        fun value(): String = args.getOrNull(++i) ?: usage("${args[i - 1]} needs a value")
        while (i < args.size) {
            when (args[i]) {
                "--mode" -> mode = runCatching { Mode.valueOf(value().uppercase()) }.getOrElse { usage("--mode is kiosk, phone, coordinator or join") }
                "--home" -> home = Path.of(value())
                "--locale" -> locale = value()
                "--site" -> site = value()
                "--person" -> person = value()
                "--relay" -> relay = value()
                "--sync-seconds" -> syncSeconds = value().toLongOrNull() ?: usage("--sync-seconds takes a number")
                "-h", "--help" -> usage(null)
                else -> usage("unknown option ${args[i]}")
            }
            i++
        }
    }

    fun usage(problem: String?): Nothing {
        if (problem != null) System.err.println("logbook-desktop: $problem")
        System.err.println(
            "usage: MainKt [--mode kiosk|phone|coordinator|join] [--home DIR] [--locale en|it] [--site SITE_ID] " +
                "[--person NAME_OR_ID] [--relay URL] [--sync-seconds N]",
        )
        exitProcess(if (problem == null) 0 else 2)
    }
}

/** The coop's zone, or this machine's when the store cannot say (a joined kiosk). */
fun zoneOf(book: CoopLogbook): ZoneId = runCatching { ZoneId.of(book.coop.timezone) }.getOrDefault(ZoneId.systemDefault())

fun main(args: Array<String>) {
    val started = System.nanoTime()
    val opts = Options(args)
    val home = opts.home ?: createTempDirectory("logbook-desktop-demo-")
    // The store is encrypted at rest: a --home store under LOGBOOK_PASSPHRASE (the CLI's
    // passphrase opens the same store), the throwaway demo store under a key held in memory.
    val book = if (opts.home != null) {
        val passphrase = System.getenv("LOGBOOK_PASSPHRASE")
            ?: opts.usage("--home needs LOGBOOK_PASSPHRASE (the store is encrypted at rest)")
        CoopLogbook.openWithPassphrase(home, passphrase)
    } else {
        CoopLogbook.open(home, InMemoryStoreKeys())
    }
    val grant = book.grant
    val joined = grant != null
    val site = opts.site ?: if (joined || opts.mode == Mode.JOIN) null else demoCoop(book)
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main)
    val strings = Strings.of(opts.locale)
    val zone = zoneOf(book)

    // What each mode puts in the window.
    class Shown(
        val title: String,
        val size: DpSize,
        val sync: suspend () -> Unit,
        val close: () -> Unit,
        val firstFrame: () -> String,
        val content: @Composable () -> Unit,
    )
    // Join mode: what the window shows once the device joined.
    val joinedAs = mutableStateOf<Shown?>(null)
    fun shownFor(mode: Mode): Shown = when (mode) {
        Mode.JOIN -> {
            val c = JoinController(book.raw, scope, opts.relay, "desktop")
            Shown(
                strings["kiosk.title"], DpSize(800.dp, 700.dp), {}, c::close,
                { "join: first frame" },
            ) {
                val after = joinedAs.value
                if (after != null) after.content()
                else JoinApp(c, strings, onScan = { withContext(Dispatchers.IO) { QrImage.pickAndDecode(strings["join.scan"]) } }) {
                    val next = when (book.grant?.role) {
                        DeviceRole.KIOSK -> Mode.KIOSK
                        DeviceRole.WORKER -> Mode.PHONE
                        DeviceRole.COORDINATOR -> Mode.COORDINATOR
                        else -> null // a supporter: nothing more on the desktop yet
                    }
                    if (next != null) joinedAs.value = shownFor(next)
                }
            }
        }
        Mode.KIOSK -> {
            val c = KioskController(book.raw, scope, siteId = site)
            Shown(
                strings["kiosk.title"], DpSize(1280.dp, 800.dp), { c.sync() }, c::close,
                { "kiosk: first frame with ${c.state.value.people.size} names" },
            ) { KioskRoute(c, strings) }
        }
        Mode.PHONE -> {
            val person = opts.person?.let { p -> book.directory.people().firstOrNull { it.name == p || it.id == p }?.id ?: p }
                ?: if (book.grant != null) null else demoPerson(book, "Aisha Khan")
            val c = WorkerController(book.raw, scope, person)
            Shown(
                strings["kiosk.title"], DpSize(420.dp, 860.dp), { c.model.sync() }, c::close,
                { "phone: first frame with ${c.state.value.week.size} kinds of hours" },
            ) { WorkerApp(c, strings, zone) }
        }
        Mode.COORDINATOR -> {
            val c = CoordinatorController(book.raw, scope, opts.relay, zone, home.resolve("reports"))
            Shown(
                strings["coord.title"], DpSize(1280.dp, 860.dp), { c.model.sync() }, c::close,
                { "coordinator: first frame with ${c.state.value.review.size} shifts to check" },
            ) { CoordinatorApp(c, strings) }
        }
    }
    val shown = shownFor(opts.mode)
    if (joined || opts.mode == Mode.JOIN) {
        scope.launch {
            while (true) {
                // In join mode: nothing to sync until joined, then the joined mode's sync.
                if (book.grant != null) (joinedAs.value ?: shown).sync()
                delay(opts.syncSeconds * 1000)
            }
        }
    }
    application {
        Window(
            onCloseRequest = { joinedAs.value?.close?.invoke(); shown.close(); book.close(); exitApplication() },
            title = shown.title,
            state = rememberWindowState(size = shown.size),
        ) {
            LaunchedEffect(Unit) {
                withFrameNanos { }
                // Measured from process start (JVM start excluded) to the first drawn frame.
                println("${shown.firstFrame()} after ${(System.nanoTime() - started) / 1_000_000} ms")
            }
            shown.content()
        }
    }
}
