// The café kiosk in a desktop window.
//
//   mvn -B -q -f desktop/pom.xml compile exec:exec                      (demo coop, English)
//   mvn -B -q -f desktop/pom.xml compile exec:exec -Dkiosk.args="--locale it"
//
// Options: --home DIR (the store, encrypted at rest under the passphrase in LOGBOOK_PASSPHRASE;
// default a fresh temporary demo store under a key held in memory), --locale en|it,
// --site SITE_ID (which site's names; default the kiosk's own site, or the demo's café),
// --sync-seconds N (how often a joined kiosk syncs; default 30).
// An empty or new --home gets the demo coop: a café site, five people with PINs 1111, 2222,
// 3333, 4444, 5555 (in roster order), one of them already on shift. A store joined to a relay
// as a kiosk (logbook join ... with a kiosk code) shows its own site and syncs in the background.
package coop.logbook.desktop

import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.withFrameNanos
import androidx.compose.ui.unit.DpSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import coop.logbook.CoopLogbook
import coop.logbook.InMemoryStoreKeys
import coop.logbook.core.PersonRole
import coop.logbook.ui.Strings
import coop.logbook.ui.kiosk.KioskPresenter
import coop.logbook.ui.kiosk.KioskRoute
import java.nio.file.Path
import kotlin.io.path.createTempDirectory
import kotlin.system.exitProcess
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch

/** The demo coop's people and PINs, in the order they are added. */
val DEMO_PEOPLE = listOf(
    "Aisha Khan" to "1111",
    "Ben Murray" to "2222",
    "Chiara Rossi" to "3333",
    "Dawit Bekele" to "4444",
    "Eilidh Fraser" to "5555",
)

/** Make [book] a small demo coop (if it is not one already); returns the café's site id. */
fun demoCoop(book: CoopLogbook): String {
    if (!book.isInitialised) book.initCoop("Riverside Café Co-op", "Europe/London")
    book.directory.sites().firstOrNull { it.name == "Café" }?.let { return it.id }
    val site = book.directory.addSite("Café")
    val ids = DEMO_PEOPLE.map { (name, pin) ->
        book.directory.addPerson(name, listOf(PersonRole.WORKER), listOf(site), false).also {
            book.directory.setPin(it, pin)
        }
    }
    book.timesheets.clockIn(ids[1], null) // Ben is already on shift
    return site
}

private class Options(args: Array<String>) {
    var home: Path? = null
    var locale = "en"
    var site: String? = null
    var syncSeconds = 30L

    init {
        var i = 0
        fun value(): String = args.getOrNull(++i) ?: usage("${args[i - 1]} needs a value")
        while (i < args.size) {
            when (args[i]) {
                "--home" -> home = Path.of(value())
                "--locale" -> locale = value()
                "--site" -> site = value()
                "--sync-seconds" -> syncSeconds = value().toLongOrNull() ?: usage("--sync-seconds takes a number")
                "-h", "--help" -> usage(null)
                else -> usage("unknown option ${args[i]}")
            }
            i++
        }
    }

    fun usage(problem: String?): Nothing {
        if (problem != null) System.err.println("logbook-desktop: $problem")
        System.err.println("usage: MainKt [--home DIR] [--locale en|it] [--site SITE_ID] [--sync-seconds N]")
        exitProcess(if (problem == null) 0 else 2)
    }
}

fun main(args: Array<String>) {
    val started = System.nanoTime()
    val opts = Options(args)
    // The store is encrypted at rest: a --home store under LOGBOOK_PASSPHRASE (the CLI's
    // passphrase opens the same store), the throwaway demo store under a key held in memory.
    val book = opts.home?.let { home ->
        val passphrase = System.getenv("LOGBOOK_PASSPHRASE")
            ?: opts.usage("--home needs LOGBOOK_PASSPHRASE (the store is encrypted at rest)")
        CoopLogbook.openWithPassphrase(home, passphrase)
    } ?: CoopLogbook.open(createTempDirectory("logbook-kiosk-demo-"), InMemoryStoreKeys())
    val joined = book.grant?.siteId != null
    val site = opts.site ?: if (joined) null else demoCoop(book)
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main)
    val presenter = KioskPresenter(book, scope, siteId = site)
    presenter.reload()
    if (joined) {
        scope.launch {
            while (true) {
                presenter.sync()
                delay(opts.syncSeconds * 1000)
            }
        }
    }
    val strings = Strings.of(opts.locale)
    application {
        Window(
            onCloseRequest = { book.close(); exitApplication() },
            title = strings["kiosk.title"],
            state = rememberWindowState(size = DpSize(1280.dp, 800.dp)),
        ) {
            LaunchedEffect(Unit) {
                withFrameNanos { }
                // Measured from process start (JVM start excluded) to the first drawn frame.
                println("kiosk: first frame with ${presenter.state.value.people.size} names after ${(System.nanoTime() - started) / 1_000_000} ms")
            }
            KioskRoute(presenter, strings)
        }
    }
}
