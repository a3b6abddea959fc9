// Change notification: a foreign (Kotlin) observer is called after local writes and after a
// sync applied changes another device made; closing the subscription stops it. The Flow
// API on top follows the store.
package coop.logbook

import coop.logbook.core.ChangeOrigin
import coop.logbook.core.PersonRole
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import coop.logbook.core.Shift
import coop.logbook.ffi.LogbookObserver
import coop.logbook.ffi.liveNativeObjects
import coop.logbook.testing.Test
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout

/** Records what it hears. */
class Recorder : LogbookObserver {
    val heard = CopyOnWriteArrayList<Change>()

    override fun onChange(origin: ChangeOrigin, scopes: List<String>) {
        heard += Change(origin, scopes)
    }
}

class ObserverTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    fun anObserverHearsALocalWriteUntilItsSubscriptionIsClosed() {
        val book = ws.open("standalone")
        book.initCoop("Bakery", "Europe/London")
        val site = book.directory.addSite("Bakery")
        val ben = book.directory.addPerson("Ben", listOf(PersonRole.WORKER), listOf(site), false)

        val recorder = Recorder()
        val subscription = book.raw.subscribe(recorder)
        book.timesheets.clockIn(ben, null)
        assertEquals(1, recorder.heard.size)
        val change = recorder.heard.single()
        assertEquals(ChangeOrigin.LOCAL, change.origin)
        assertTrue("timesheet:$ben" in change.scopes, "${change.scopes}")

        subscription.close()
        book.timesheets.clockOut(ben)
        assertEquals(1, recorder.heard.size, "a closed subscription hears nothing more")
    }

    @Test
    suspend fun anObserverHearsASyncThatBroughtAnotherDevicesChanges() {
        val coop = ws.smallCoop()
        val phone = ws.joinDevice(coop, "aisha phone", workerGrant(coop.aisha))
        val recorder = Recorder()
        coop.coordinator.raw.subscribe(recorder).use {
            phone.timesheets.clockIn(coop.aisha, null)
            phone.sync()
            assertTrue(recorder.heard.isEmpty(), "nothing reached the coordinator yet")

            coop.coordinator.sync()
            val fromSync = recorder.heard.filter { it.origin == ChangeOrigin.SYNC }
            assertTrue(fromSync.any { "timesheet:${coop.aisha}" in it.scopes }, "${recorder.heard}")
        }
    }

    @Test
    suspend fun aShiftsFlowFollowsChangesFromAnotherDevice() = coroutineScope {
        val coop = ws.smallCoop()
        val phone = ws.joinDevice(coop, "aisha phone", workerGrant(coop.aisha))
        val seen = CopyOnWriteArrayList<List<Shift>>()
        val collector = launch(Dispatchers.Default) { coop.coordinator.shifts(coop.aisha).collect { seen += it } }
        // The flow subscribes before its first read, so once that arrived nothing is missed.
        awaitSubscribed { seen.isNotEmpty() }
        assertEquals(emptyList<Shift>(), seen.first())

        val at = System.currentTimeMillis() / 1000 - 3600
        phone.timesheets.punch(coop.aisha, PunchKind.CLOCK_IN, PunchSource.PHONE, at, null, null)
        phone.timesheets.punch(coop.aisha, PunchKind.CLOCK_OUT, PunchSource.PHONE, at + 1800, null, null)
        phone.sync()
        coop.coordinator.sync()

        awaitSubscribed { seen.last().singleOrNull()?.countedSeconds == 1800L }
        collector.cancel()
    }

    @Test
    suspend fun cancellingACollectorClosesItsNativeSubscription() = coroutineScope {
        val book = ws.open("standalone")
        book.initCoop("Bakery", "Europe/London")
        val before = liveNativeObjects()
        val collector = async(start = CoroutineStart.UNDISPATCHED) { book.changes().first() }
        awaitSubscribed { liveNativeObjects() > before }
        book.directory.addSite("Bakery")
        assertTrue(collector.await().touches(listOf("directory")))
        awaitSubscribed { liveNativeObjects() == before }
        assertEquals(before, liveNativeObjects(), "the subscription object was released")
        assertFalse(collector.isActive)
    }
}

/** Wait (bounded) until [ready] is true. */
suspend fun awaitSubscribed(ready: suspend () -> Any?) {
    withTimeout(10_000) {
        while (true) {
            val r = ready()
            if (r != false) break
            kotlinx.coroutines.delay(5)
        }
    }
}

class FailingObserverTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    fun anObserverThatThrowsDoesNotFailTheWriteOrSilenceTheOthers() {
        val book = ws.open("standalone")
        book.initCoop("Bakery", "Europe/London")
        val failing = book.raw.subscribe(object : LogbookObserver {
            override fun onChange(origin: ChangeOrigin, scopes: List<String>) = error("observer bug")
        })
        val recorder = Recorder()
        val working = book.raw.subscribe(recorder)

        val site = book.directory.addSite("Bakery") // must not throw
        assertEquals(listOf(site), book.directory.sites().map { it.id }, "the write is saved")
        assertEquals(1, recorder.heard.size, "the other observer still heard it")
        failing.close()
        working.close()
    }
}
