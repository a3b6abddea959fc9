// The application: opens the store once, and schedules background sync.
package coop.logbook.app

import android.app.Application
import coop.logbook.CoopLogbook
import coop.logbook.android.KeystoreStoreKeys

class LogbookApp : Application() {
    lateinit var book: CoopLogbook
        private set

    override fun onCreate() {
        super.onCreate()
        // Encrypted at rest under a key the Android Keystore guards (docs/SECURITY.md, At rest).
        book = CoopLogbook.open(filesDir.toPath().resolve("logbook"), KeystoreStoreKeys(this))
        SyncWorker.schedule(this)
    }
}

val android.content.Context.logbook: CoopLogbook get() = (applicationContext as LogbookApp).book
