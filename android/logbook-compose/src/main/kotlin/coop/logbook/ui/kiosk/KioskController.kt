// The kiosk's one link to the library: the Rust KioskScreen model (crate logbook-screens,
// through uniffi). It subscribes to the model (the current state first, then every change:
// taps, syncs, the idle return), turns KioskEvents into the model's actions off the UI
// thread, and ticks the model's clock so its countdowns and idle return run. No kiosk rule
// lives here: which buttons, tries left, lockouts and messages are all the model's.
package coop.logbook.ui.kiosk

import coop.logbook.core.HourType
import coop.logbook.ffi.KioskScreen as KioskScreenModel
import coop.logbook.ffi.KioskScreenConfig
import coop.logbook.ffi.KioskScreenListener
import coop.logbook.ffi.KioskScreenState
import coop.logbook.ffi.Logbook
import coop.logbook.ffi.ScreenSubscription
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

class KioskController(
    logbook: Logbook,
    private val scope: CoroutineScope,
    /** The site whose names to show; null = the site this kiosk was joined to (its grant). */
    siteId: String? = null,
    /** Kinds of hours offered at clock-in; more than one and the kiosk asks. */
    hourTypes: List<HourType> = emptyList(),
    /** Seconds a confirmation, lockout or refusal stays before the names come back. */
    outcomeSeconds: Long = 5,
    /** Seconds an untouched PIN pad stays before the names come back. */
    pinIdleSeconds: Long = 30,
    /** How often the model's clock is ticked (its countdowns follow it). */
    private val tickMillis: Long = 1_000,
    /**
     * Where the model's actions run (quick, blocking SQLite work with an fsync). Tests pass
     * Dispatchers.Unconfined: a tap is then handled before the click returns.
     */
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    val model: KioskScreenModel = KioskScreenModel(
        logbook,
        KioskScreenConfig(siteId, hourTypes, outcomeSeconds, pinIdleSeconds),
    )

    private val _state = MutableStateFlow(model.state())
    val state: StateFlow<KioskScreenState> = _state.asStateFlow()

    // Listeners run on the thread that made the change: only hand the state over.
    private val subscription: ScreenSubscription = model.subscribe(object : KioskScreenListener {
        override fun onState(state: KioskScreenState) {
            _state.value = state
        }
    })

    private val ticker: Job = scope.launch(io) {
        while (isActive) {
            delay(tickMillis)
            model.tick()
        }
    }

    // Taps reach the model one at a time and in order (a PIN's digits must not swap).
    private val events = Channel<KioskEvent>(Channel.UNLIMITED)
    private val worker: Job = scope.launch(io) {
        for (event in events) {
            when (event) {
                is KioskEvent.PickPerson -> model.pickPerson(event.personId)
                is KioskEvent.Digit -> model.digit(event.digit.toUByte())
                KioskEvent.DeleteDigit -> model.deleteDigit()
                is KioskEvent.Act -> model.act(event.action)
                is KioskEvent.ChooseHourType -> model.chooseHourType(event.hourType)
                KioskEvent.BackToTiles -> model.backToTiles()
            }
        }
    }

    fun onEvent(event: KioskEvent) {
        events.trySend(event)
    }

    /** Sync once; returns whether the relay was reached (the offline badge follows). */
    suspend fun sync(): Boolean = withContext(io) { model.sync() }

    override fun close() {
        ticker.cancel()
        events.close()
        worker.cancel()
        subscription.cancel()
        subscription.close()
        model.close()
    }
}
