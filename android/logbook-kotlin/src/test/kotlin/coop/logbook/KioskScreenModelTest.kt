// The Rust kiosk screen model driven through the bindings, as a front end would: a kiosk
// joins a real relay, subscribes, and a person picks their name, types a wrong PIN, then the
// right one, and clocks in. Everything the test reads is state the model published; the
// words are message keys the front end would translate.
package coop.logbook

import coop.logbook.core.PunchKind
import coop.logbook.ffi.KioskScreen
import coop.logbook.ffi.KioskScreenConfig
import coop.logbook.ffi.KioskScreenListener
import coop.logbook.ffi.KioskScreenState
import coop.logbook.ffi.KioskStage
import coop.logbook.ffi.screenMessageKeys
import coop.logbook.testing.Test
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue

class KioskScreenModelTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    private class Heard : KioskScreenListener {
        val states = CopyOnWriteArrayList<KioskScreenState>()

        override fun onState(state: KioskScreenState) {
            states += state
        }

        val last: KioskScreenState get() = states.last()
    }

    private fun KioskScreen.typePin(pin: String) = pin.forEach { digit((it - '0').toUByte()) }

    @Test
    suspend fun theKioskModelTakesAPinAndAClockInAndTheListenerHearsEachStep() {
        val coop = ws.smallCoop()
        val kiosk = ws.joinDevice(coop, "bakery kiosk", kioskGrant(coop.siteId))
        val screen = ws.own(KioskScreen(kiosk.raw, KioskScreenConfig(siteId = null)))
        val heard = Heard()
        val sub = ws.own(screen.subscribe(heard))

        assertEquals(1, heard.states.size, "the current state comes first")
        // (siteName stays empty on a joined kiosk: it holds the site's roster, not the
        // directory with the site's name.)
        val tile = heard.last.people.single()
        assertEquals("Aisha", tile.name)
        assertEquals("A", tile.initials)
        assertIs<KioskStage.Tiles>(heard.last.stage)

        screen.pickPerson(coop.aisha)
        screen.typePin("0000")
        screen.act(PunchKind.CLOCK_IN)
        val wrong = assertIs<KioskStage.Pin>(heard.last.stage)
        assertEquals(0u, wrong.digits, "a wrong PIN clears the pad")
        val triesLeft = wrong.triesLeft
        assertTrue(triesLeft != null && triesLeft > 0u, "tries left: $triesLeft")
        assertEquals("pin.wrong", wrong.wrong?.key)
        assertEquals(triesLeft.toString(), wrong.wrong?.args?.single { it.name == "count" }?.value)

        screen.typePin(coop.pin)
        assertTrue(assertIs<KioskStage.Pin>(heard.last.stage).complete)
        screen.act(PunchKind.CLOCK_IN)
        val done = assertIs<KioskStage.Done>(heard.last.stage)
        assertEquals(PunchKind.CLOCK_IN, done.action)
        assertEquals("done.clockIn", done.message.key)
        assertEquals(done.time, done.message.args.single { it.name == "time" }.value)
        assertTrue(Regex("\\d\\d:\\d\\d").matches(done.time), done.time)
        assertEquals(listOf(coop.aisha), heard.last.onShift.map { it.personId })
        assertTrue(heard.last.pendingTaps > 0u, "the tap waits for the relay")

        assertTrue(screen.sync(), "the relay is up")
        assertEquals(0u, heard.last.pendingTaps)
        assertFalse(heard.last.offline)

        screen.backToTiles()
        assertIs<KioskStage.Tiles>(heard.last.stage)
        sub.cancel()
        val before = heard.states.size
        screen.pickPerson(coop.aisha)
        assertEquals(before, heard.states.size, "a cancelled subscription hears nothing")
        assertIs<KioskStage.Pin>(screen.state().stage)
    }

    @Test
    fun everyMessageKeyOfTheModelsIsListedOnce() {
        val keys = screenMessageKeys()
        assertEquals(keys.toSet().size, keys.size)
        assertTrue("done.clockIn" in keys && "offline.waiting" in keys)
    }
}
