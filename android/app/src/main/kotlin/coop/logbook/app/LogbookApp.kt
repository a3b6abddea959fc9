// The application: opens the store once, and schedules background sync.
package coop.logbook.app

import android.app.Application
import coop.logbook.CoopLogbook

class LogbookApp : Application() {
    lateinit var book: CoopLogbook
        private set

    override fun onCreate() {
        super.onCreate()
        book = CoopLogbook.open(filesDir.toPath().resolve("logbook"))
        SyncWorker.schedule(this)
    }
}

val android.content.Context.logbook: CoopLogbook get() = (applicationContext as LogbookApp).book
