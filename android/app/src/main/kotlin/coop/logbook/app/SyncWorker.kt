// Background sync with WorkManager: once whenever a network appears, and every 15 minutes
// (WorkManager's shortest period) while one is there. A failed sync is retried with
// back-off; the store keeps every change until the relay has it.
package coop.logbook.app

import android.content.Context
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import coop.logbook.ffi.LogbookException
import java.util.concurrent.TimeUnit

class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val book = applicationContext.logbook
        if (book.grant == null) return Result.success() // not joined: nothing to sync
        return try {
            book.sync()
            Result.success()
        } catch (e: LogbookException.Network) {
            Result.retry()
        } catch (e: LogbookException) {
            Result.failure()
        }
    }

    companion object {
        private val online = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

        fun schedule(context: Context) {
            val wm = WorkManager.getInstance(context)
            wm.enqueueUniquePeriodicWork(
                "sync-periodic",
                ExistingPeriodicWorkPolicy.KEEP,
                PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES).setConstraints(online).build(),
            )
            // Runs as soon as a network is there (now, or when one appears).
            wm.enqueueUniqueWork(
                "sync-on-network",
                ExistingWorkPolicy.KEEP,
                OneTimeWorkRequestBuilder<SyncWorker>().setConstraints(online).build(),
            )
        }

        /** After a local change: sync once the network allows. */
        fun soon(context: Context) {
            WorkManager.getInstance(context).enqueueUniqueWork(
                "sync-on-network",
                ExistingWorkPolicy.REPLACE,
                OneTimeWorkRequestBuilder<SyncWorker>().setConstraints(online).build(),
            )
        }
    }
}
