// Cancelling a coroutine in the middle of a sync (the user leaves the screen, WorkManager
// stops the job) must leave the store consistent, and the next sync must finish the work.
package coop.logbook

import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import coop.logbook.testing.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay

class CancellationTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    suspend fun cancellingASyncMidwayLeavesTheStoreConsistentAndTheNextSyncCompletes() = coroutineScope {
        val coop = ws.smallCoop()
        val phone = ws.joinDevice(coop, "aisha phone", workerGrant(coop.aisha))

        // Two years of back-filled shifts: many documents and changes to push.
        val day = 86_400L
        val start = System.currentTimeMillis() / 1000 - 730 * day
        val shifts = 240
        for (i in 0 until shifts) {
            val at = start + i * 3 * day
            phone.timesheets.punch(coop.aisha, PunchKind.CLOCK_IN, PunchSource.PHONE, at, HourType.VOLUNTEER, null)
            phone.timesheets.punch(coop.aisha, PunchKind.CLOCK_OUT, PunchSource.PHONE, at + 3600, null, null)
        }
        val queued = phone.pendingChanges
        assertTrue(queued >= shifts, "queued $queued")

        // Cancel syncs after ever longer moments; at least the first is cut short.
        var cancelled = 0
        for (afterMillis in listOf(0L, 2L, 10L, 40L, 120L)) {
            val sync = async(start = CoroutineStart.UNDISPATCHED) { phone.sync() }
            delay(afterMillis)
            sync.cancel()
            try {
                sync.await()
            } catch (e: CancellationException) {
                cancelled++
            }
            assertTrue(phone.raw.checkIntegrity(), "the store is intact after a cancel at $afterMillis ms")
            assertTrue(phone.pendingChanges <= queued, "nothing was queued twice")
            assertEquals(shifts, phone.timesheets.shifts(coop.aisha, null, null).size)
        }
        assertTrue(cancelled >= 1, "at least one sync was cancelled mid-way")

        val summary = phone.sync()
        assertEquals(0, phone.pendingChanges, "the next sync pushed everything ($summary)")
        coop.coordinator.sync()
        val seen = coop.coordinator.timesheets.shifts(coop.aisha, null, null)
        assertEquals(shifts, seen.size)
        assertTrue(seen.all { it.countedSeconds == 3600L })
    }
}
