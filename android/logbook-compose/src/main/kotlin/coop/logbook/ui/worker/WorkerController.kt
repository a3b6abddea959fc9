// The worker phone's link to the library: the Rust WorkerHomeScreen model. Subscribes (the
// current state first, then every change, local or synced), runs the events off the UI
// thread one at a time, in order.
package coop.logbook.ui.worker

import coop.logbook.ffi.Logbook
import coop.logbook.ffi.ScreenException
import coop.logbook.ffi.ScreenSubscription
import coop.logbook.ffi.WorkerHomeScreen
import coop.logbook.ffi.WorkerHomeScreenListener
import coop.logbook.ffi.WorkerHomeScreenState
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

class WorkerController(
    logbook: Logbook,
    scope: CoroutineScope,
    /** Whose phone; null = the person this phone joined for. */
    personId: String? = null,
    io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    val model: WorkerHomeScreen = WorkerHomeScreen(logbook, personId)

    private val _state = MutableStateFlow(model.state())
    val state: StateFlow<WorkerHomeScreenState> = _state.asStateFlow()

    private val subscription: ScreenSubscription = model.subscribe(object : WorkerHomeScreenListener {
        override fun onState(state: WorkerHomeScreenState) {
            _state.value = state
        }
    })

    private val events = Channel<WorkerEvent>(Channel.UNLIMITED)
    private val worker: Job = scope.launch(io) {
        for (event in events) {
            // A refusal is also in the state (today.refusal), so the screen shows it.
            try {
                when (event) {
                    is WorkerEvent.Tap -> model.tap(event.action, event.hourType)
                    is WorkerEvent.WriteNote -> model.writeNote(event.threadId, event.text)
                    is WorkerEvent.SetConsent -> model.setConsent(event.coordinatorsMayRead)
                    is WorkerEvent.ApproveNotesDevice -> model.approveNotesDevice(event.deviceKey)
                    is WorkerEvent.NotNow -> model.notNow(event.deviceKey)
                    WorkerEvent.Sync -> model.sync()
                }
            } catch (_: ScreenException) {
            }
        }
    }

    fun onEvent(event: WorkerEvent) {
        events.trySend(event)
    }

    override fun close() {
        events.close()
        worker.cancel()
        subscription.cancel()
        subscription.close()
        model.close()
    }
}
