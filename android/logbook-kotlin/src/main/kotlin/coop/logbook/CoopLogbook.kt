// The idiomatic Kotlin face of the Rust core: one AutoCloseable store, its feature
// sub-objects, `suspend` network calls, and Flows of observed state. Everything forwards
// to the generated bindings (coop.logbook.ffi / coop.logbook.core); nothing here decides
// domain rules.
package coop.logbook

import coop.logbook.core.ChangeOrigin
import coop.logbook.core.CoopInfo
import coop.logbook.core.JoinInfo
import coop.logbook.core.Shift
import coop.logbook.core.SyncSummary
import coop.logbook.ffi.Cpo
import coop.logbook.ffi.DeviceInfo
import coop.logbook.ffi.Directory
import coop.logbook.ffi.Grant
import coop.logbook.ffi.Invite
import coop.logbook.ffi.Kiosk
import coop.logbook.ffi.LogbookObserver
import coop.logbook.ffi.Notes
import coop.logbook.ffi.Reports
import coop.logbook.ffi.StoreKeyProvider
import coop.logbook.ffi.SyncClient
import coop.logbook.ffi.Timesheets
import coop.logbook.ffi.Training
import java.nio.file.Path
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import coop.logbook.ffi.Logbook as FfiLogbook

/** Something changed in the store: where it came from and which scopes. */
data class Change(val origin: ChangeOrigin, val scopes: List<String>) {
    /** Whether any changed scope is one of [prefixes] (`"timesheet:p-1"`, `"directory"`, ...). */
    fun touches(prefixes: Collection<String>): Boolean =
        prefixes.isEmpty() || scopes.any { s -> prefixes.any { s == it || s.startsWith("$it:") } }
}

/**
 * One device's logbook. Open it once per process and close it when the app no longer
 * needs it; the feature objects ([timesheets], [kiosk], ...) live as long as the store.
 *
 * Reads and local writes are quick, blocking calls (one fsynced SQLite transaction for a
 * write): call them off the main thread. Network calls are `suspend` functions and may be
 * cancelled at any point without harming the store.
 */
class CoopLogbook private constructor(
    /** The generated object, for anything this wrapper does not cover. */
    val raw: FfiLogbook,
) : AutoCloseable {
    val directory: Directory = raw.directory()
    val kiosk: Kiosk = raw.kiosk()
    val timesheets: Timesheets = raw.timesheets()
    val training: Training = raw.training()
    val cpo: Cpo = raw.cpo()
    val notes: Notes = raw.notes()
    val reports: Reports = raw.reports()
    private val relay: SyncClient = raw.sync()

    companion object {
        /**
         * Open (or create) the store in [home], a directory of the app's private storage,
         * encrypted at rest under the key [keys] keeps for it (Android: [KeystoreStoreKeys]
         * in logbook-android; tests: [InMemoryStoreKeys]). A key that does not open the
         * store throws `LogbookException.WrongKey` and changes nothing.
         */
        fun open(home: Path, keys: StoreKeyProvider): CoopLogbook =
            CoopLogbook(FfiLogbook.open(home.toString(), keys))

        /**
         * Open with a key derived from [passphrase] (Argon2id, salt in [home]): a desktop
         * with no platform key store. The CLI's `LOGBOOK_PASSPHRASE` opens the same store.
         */
        fun openWithPassphrase(home: Path, passphrase: String): CoopLogbook =
            CoopLogbook(FfiLogbook.openWithPassphrase(home.toString(), passphrase))
    }

    /** Start a new coop here (standalone, or the first coordinator device). */
    fun initCoop(name: String, timezone: String) = raw.initCoop(name, timezone)

    val isInitialised: Boolean get() = raw.isInitialised()
    val coop: CoopInfo get() = raw.coop()
    val grant: Grant? get() = raw.grant()

    /** Today in the coop's time zone, `YYYY-MM-DD`. */
    fun today(): String = raw.today()

    // ---------- relay ----------

    /** Redeem a one-time join code at [relayUrl], then sync once ([JoinInfo.synced] says
     *  whether that sync completed). The first coordinator of a new coop starts its
     *  directory in [timezone] (IANA; default the device's). */
    suspend fun join(relayUrl: String, code: String, deviceName: String, timezone: String? = null): JoinInfo =
        relay.join(relayUrl, code, deviceName, timezone)

    /** Push local changes and pull remote ones. Observers hear about what it applied. */
    suspend fun sync(): SyncSummary = relay.run()

    /** A one-time join code for a new device (coordinators). */
    suspend fun invite(grant: Grant, expiresInHours: UInt? = null): Invite = relay.invite(grant, expiresInHours)

    suspend fun devices(): List<DeviceInfo> = relay.devices()

    suspend fun revokeDevice(deviceId: String) = relay.revokeDevice(deviceId)

    /** Local changes the relay has not acknowledged yet. */
    val pendingChanges: Long get() = relay.pendingChanges().toLong()

    // ---------- observation ----------

    /**
     * Every change from now on (local writes and applied syncs). Collecting subscribes;
     * cancelling the collector closes the native subscription.
     */
    fun changes(): Flow<Change> = callbackFlow {
        val subscription = raw.subscribe(object : LogbookObserver {
            override fun onChange(origin: ChangeOrigin, scopes: List<String>) {
                // Never throw back into Rust; a full or closed channel just drops the event
                // (observe() re-reads state, so a dropped duplicate loses nothing).
                trySend(Change(origin, scopes))
            }
        })
        awaitClose { subscription.close() }
    }

    /**
     * State that follows the store: [read] now, then again after every change touching one
     * of the [watched] scopes (all changes if empty). Subscribes before the first read, so no change is
     * missed in between; slow collectors get the latest state (conflated); equal
     * consecutive states are emitted once.
     */
    fun <T> observe(watched: Collection<String> = emptyList(), read: CoopLogbook.() -> T): Flow<T> =
        callbackFlow {
            val subscription = raw.subscribe(object : LogbookObserver {
                override fun onChange(origin: ChangeOrigin, scopes: List<String>) {
                    if (Change(origin, scopes).touches(watched)) trySend(Unit)
                }
            })
            send(Unit) // the initial read
            awaitClose { subscription.close() }
        }
            .conflate()
            .map { read() }
            .distinctUntilChanged()
            .flowOn(Dispatchers.IO)

    /** A person's shifts in `from..to` (local dates), kept up to date. */
    fun shifts(personId: String, from: String? = null, to: String? = null): Flow<List<Shift>> =
        observe(listOf("timesheet:$personId", "review:$personId", "directory")) {
            timesheets.shifts(personId, from, to)
        }

    override fun close() {
        // Sub-objects first: each holds a reference to the same native store.
        listOf(directory, kiosk, timesheets, training, cpo, notes, reports, relay).forEach { it.close() }
        raw.close()
    }
}
