// The demo coop the desktop window opens: real library, no relay. Also times the steps from
// an empty store to a drawn roster (printed as "perf: ..." lines).
package coop.logbook.desktop

import androidx.compose.runtime.CompositionLocalProvider
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.core.PunchKind
import coop.logbook.ffi.KioskStage
import coop.logbook.ui.kiosk.KioskController
import coop.logbook.ui.kiosk.KioskEvent
import coop.logbook.ui.kiosk.KioskScreen
import coop.logbook.ui.kiosk.KioskTheme
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import org.junit.After
import org.junit.Test

class DemoCoopTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    private fun ms(from: Long, to: Long) = "%.1f".format((to - from) / 1e6)

    @Test
    fun theDemoCoopShowsFiveNamesInDistinctColoursWithOneOnShift() {
        val t0 = System.nanoTime()
        val book = ws.open("demo")
        val site = demoCoop(book)
        val t1 = System.nanoTime()
        val presenter = ws.own(KioskController(book.raw, scope, siteId = site))
        val t2 = System.nanoTime()
        val state = presenter.state.value
        assertEquals(DEMO_PEOPLE.map { it.first }.sorted(), state.people.map { it.name }.sorted())
        assertEquals(listOf("Ben Murray"), state.onShift.map { it.name })
        assertEquals("Café", state.siteName)
        assertEquals(state.people.size, state.people.map { it.colour }.toSet().size, "every tile has its own colour")

        val (file, stats) = Screenshots.render("kiosk-demo-roster-en") {
            CompositionLocalProvider(LocalStrings provides Strings.of("en")) {
                KioskTheme { KioskScreen(presenter.state.value, onEvent = {}) }
            }
        }
        val t3 = System.nanoTime()
        Screenshots.assertNotBlank(file, stats)
        println("perf: demo coop created in ${ms(t0, t1)} ms, roster read in ${ms(t1, t2)} ms, first render of the roster in ${ms(t2, t3)} ms")
        // Demo setup again on the same store changes nothing.
        assertEquals(site, demoCoop(book))
        assertEquals(5, book.kiosk.roster(site).size)
    }

    @Test
    fun aDemoWorkerClocksInWithTheDemoPin() {
        val book = ws.open("demo")
        val presenter = ws.own(KioskController(book.raw, scope, siteId = demoCoop(book)))
        val aisha = presenter.state.value.people.single { it.name == "Aisha Khan" }
        // Straight to the model (the controller's events run on another thread, in any order).
        presenter.model.pickPerson(aisha.personId)
        DEMO_PEOPLE.first { it.first == "Aisha Khan" }.second.forEach { presenter.model.digit(it.digitToInt().toUByte()) }
        presenter.model.act(PunchKind.CLOCK_IN)
        val deadline = System.currentTimeMillis() + 10_000
        while (presenter.state.value.stage !is KioskStage.Done && System.currentTimeMillis() < deadline) Thread.sleep(20)
        val done = assertIs<KioskStage.Done>(presenter.state.value.stage)
        assertEquals(PunchKind.CLOCK_IN, done.action)
        assertEquals(setOf("Aisha Khan", "Ben Murray"), presenter.state.value.onShift.map { it.name }.toSet())
    }
}
