// The Kotlin side of the FFI cost comparison (docs/PERFORMANCE.md, "Bindings"): the same
// work as bindings/benches/ffi_cost.rs, called through the generated bindings and JNA.
// Not a test: scripts/bench-bindings.sh runs its main().
package coop.logbook

import coop.logbook.core.PersonRole
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import kotlin.io.path.createTempDirectory

private fun medianMicros(nanos: List<Long>): Double = nanos.sorted()[nanos.size / 2] / 1_000.0

fun main() {
    val root = createTempDirectory("logbook-bench-")
    val keys = InMemoryStoreKeys()
    val clockIns = 300
    val monthReads = 200
    val people = 40

    CoopLogbook.open(root.resolve("clock"), keys).use { book ->
        book.initCoop("Bench Co-op", "Europe/London")
        val site = book.directory.addSite("Bakery")
        val ann = book.directory.addPerson("Ann", listOf(PersonRole.WORKER), listOf(site), false)
        val times = ArrayList<Long>()
        // One shift an hour, in the past (as in ffi_cost.rs): taps pair up by whole seconds.
        val first = System.currentTimeMillis() / 1000 - 3600L * (clockIns + 1)
        for (i in 0 until clockIns) {
            val at = first + i * 3600L
            val t = System.nanoTime()
            book.timesheets.punch(ann, PunchKind.CLOCK_IN, PunchSource.PHONE, at, null, null)
            times += System.nanoTime() - t
            book.timesheets.punch(ann, PunchKind.CLOCK_OUT, PunchSource.PHONE, at + 1800, null, null)
        }
        println("kotlin clock_in: %.1f µs per call (%d calls)".format(medianMicros(times), clockIns))
    }

    CoopLogbook.open(root.resolve("month"), keys).use { book ->
        book.initCoop("Bench Co-op", "UTC")
        val site = book.directory.addSite("Bakery")
        val monthStart = 1_793_577_600L // Monday 2026-11-02 00:00 UTC
        val ids = (0 until people).map { i ->
            val p = book.directory.addPerson("Worker $i", listOf(PersonRole.WORKER), listOf(site), false)
            for (day in 0 until 28) {
                if (day % 7 >= 5) continue
                val at = monthStart + day * 86_400L + 8 * 3600
                book.timesheets.punch(p, PunchKind.CLOCK_IN, PunchSource.COORDINATOR, at, null, null)
                book.timesheets.punch(p, PunchKind.CLOCK_OUT, PunchSource.COORDINATOR, at + 8 * 3600, null, null)
            }
            p
        }
        val times = ArrayList<Long>()
        var count = 0
        repeat(monthReads) {
            val t = System.nanoTime()
            count = ids.sumOf { book.timesheets.shifts(it, "2026-11-01", "2026-11-30").size }
            times += System.nanoTime() - t
        }
        check(count == people * 20) { "expected ${people * 20} shifts, read $count" }
        println(
            "kotlin month of shifts, 40 people (%d shifts): %.1f µs per read (%d reads)"
                .format(count, medianMicros(times), monthReads),
        )
    }
    root.toFile().deleteRecursively()
}
