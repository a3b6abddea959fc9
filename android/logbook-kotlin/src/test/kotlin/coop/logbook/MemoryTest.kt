// Calling the library in a loop, closing the native objects each time, must not grow native
// memory: every object handed out is released, and malloc'd memory stays flat.
package coop.logbook

import com.sun.jna.Library
import com.sun.jna.Native
import com.sun.jna.Structure
import coop.logbook.core.PersonRole
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import coop.logbook.ffi.liveNativeObjects
import coop.logbook.testing.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/** glibc's mallinfo2(): what malloc has handed out (Rust uses the system allocator). */
@Suppress("unused")
@Structure.FieldOrder("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
class MallInfo2 : Structure(), Structure.ByValue {
    @JvmField var arena: Long = 0
    @JvmField var ordblks: Long = 0
    @JvmField var smblks: Long = 0
    @JvmField var hblks: Long = 0
    @JvmField var hblkhd: Long = 0
    @JvmField var usmblks: Long = 0
    @JvmField var fsmblks: Long = 0
    @JvmField var uordblks: Long = 0
    @JvmField var fordblks: Long = 0
    @JvmField var keepcost: Long = 0
}

interface LibC : Library {
    fun mallinfo2(): MallInfo2
}

/** Bytes currently allocated with malloc in this process (in use, not cached). */
fun mallocInUse(): Long = Native.load("c", LibC::class.java).mallinfo2().let { it.uordblks + it.hblkhd }

class MemoryTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    fun tenThousandCallsWithObjectsClosedDoNotGrowNativeMemory() {
        val book = ws.open("standalone")
        book.initCoop("Bakery", "Europe/London")
        val site = book.directory.addSite("Bakery")
        val carla = book.directory.addPerson("Carla", listOf(PersonRole.WORKER), listOf(site), false)
        val start = System.currentTimeMillis() / 1000 - 40 * 86_400L
        repeat(30) { i ->
            val at = start + i * 86_400L
            book.timesheets.punch(carla, PunchKind.CLOCK_IN, PunchSource.PHONE, at, null, null)
            book.timesheets.punch(carla, PunchKind.CLOCK_OUT, PunchSource.PHONE, at + 4 * 3600, null, null)
        }

        // Each round: two short-lived native objects, three calls, every object closed.
        fun round() {
            book.raw.timesheets().use { t -> check(t.shifts(carla, null, null).size == 30) }
            book.raw.directory().use { d -> check(d.person(carla).name == "Carla") }
            book.raw.reports().use { r -> check(r.hours("2000-01-01", "2100-01-01").size == 1) }
        }

        repeat(1_000) { round() } // warm up caches, the JIT and malloc's arenas
        // mallinfo2 counts the whole process, the JVM's own native allocations (JIT, GC)
        // included, and those can land in any one batch on a busy machine. A leak in the
        // library grows every batch by the same amount, so a batch of 10,000 rounds that
        // stays flat proves there is none; up to three batches are tried.
        val growths = mutableListOf<Long>()
        repeat(3) {
            if (growths.any { it < 4 * 1024 * 1024 }) return@repeat
            val objectsBefore = liveNativeObjects()
            val mallocBefore = mallocInUse()
            repeat(10_000) { round() }
            val objectsAfter = liveNativeObjects()
            growths += mallocInUse() - mallocBefore
            assertEquals(objectsBefore, objectsAfter, "every native object handed out was released")
        }
        // 10,000 rounds read ~330 records each: leaking even one record's strings per
        // round would add several MB to every batch.
        assertTrue(growths.any { it < 4 * 1024 * 1024 }, "malloc'd memory grew in every batch of 10,000 rounds: $growths bytes")
        println("memory: batches of 10,000 rounds, malloc growth per batch $growths bytes")
    }
}
