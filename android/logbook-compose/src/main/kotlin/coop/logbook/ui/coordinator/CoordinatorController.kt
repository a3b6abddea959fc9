// The coordinator screens' link to the library: the Rust CoordinatorScreens model. It
// subscribes (current state first, then every change, local or synced) and runs the events
// off the UI thread one at a time, in order. The only thing it works out itself is turning
// a typed `HH:mm` on the shift's date into a time (the model takes Unix seconds).
package coop.logbook.ui.coordinator

import coop.logbook.core.ShiftCorrection
import coop.logbook.ffi.CoordinatorScreenListener
import coop.logbook.ffi.CoordinatorScreenState
import coop.logbook.ffi.CoordinatorScreens
import coop.logbook.ffi.DeviceMode
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import coop.logbook.ffi.Logbook
import coop.logbook.ffi.ScreenException
import coop.logbook.ffi.ScreenMessage
import coop.logbook.ffi.ScreenSubscription
import java.nio.file.Path
import java.time.LocalDate
import java.time.LocalTime
import java.time.ZoneId
import java.time.format.DateTimeParseException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

class CoordinatorController(
    logbook: Logbook,
    scope: CoroutineScope,
    /** The relay this device joined (written into invite QR codes); empty if none. */
    relayUrl: String,
    /** The coop's time zone: typed times are read in it. */
    val zone: ZoneId,
    /** Where exported reports are written. */
    private val reportDir: Path,
    io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    val model: CoordinatorScreens = CoordinatorScreens(logbook, relayUrl)

    private val _state = MutableStateFlow(model.state())
    val state: StateFlow<CoordinatorScreenState> = _state.asStateFlow()

    /** A typed value the model was never asked about (a time that is not `HH:mm`). */
    private val _notice = MutableStateFlow<ScreenMessage?>(null)
    val notice: StateFlow<ScreenMessage?> = _notice.asStateFlow()

    /** The path of the last report written. */
    @Volatile var lastReport: String? = null
        private set

    private val subscription: ScreenSubscription = model.subscribe(object : CoordinatorScreenListener {
        override fun onState(state: CoordinatorScreenState) {
            _state.value = state
        }
    })

    private val events = Channel<CoordinatorEvent>(Channel.UNLIMITED)
    private val worker: Job = scope.launch(io) {
        for (event in events) {
            _notice.value = null
            // Refusals are also the state's `outcome`, which the screen shows.
            try {
                handle(event)
            } catch (_: ScreenException) {
            }
        }
    }

    private suspend fun handle(event: CoordinatorEvent) {
        when (event) {
            is CoordinatorEvent.OpenShift -> model.openShift(event.shiftId)
            is CoordinatorEvent.CorrectShift -> {
                val start = at(event.localDate, event.start)
                var end = at(event.localDate, event.end)
                if (start == BAD || end == BAD) {
                    _notice.value = ScreenMessage("coord.correct.badTime", emptyList())
                    return
                }
                // An end typed earlier than the start is the next morning.
                val shiftStart = start ?: model.state().openShift?.shift?.start
                if (end != null && shiftStart != null && end <= shiftStart) end += 24 * 3600
                model.correctShift(event.shiftId, ShiftCorrection(start, end, null, null, false, event.reason))
            }
            is CoordinatorEvent.ReviewWeek -> model.reviewWeek(event.date, event.people, event.lock)
            is CoordinatorEvent.AddSite -> model.addSite(event.name)
            is CoordinatorEvent.AddPerson -> model.addPerson(event.name, listOf(coop.logbook.core.PersonRole.WORKER), event.siteIds, false)
            is CoordinatorEvent.SetPin -> model.setPin(event.personId, event.pin)
            is CoordinatorEvent.Invite -> {
                val role = when (event.mode) {
                    DeviceMode.PHONE -> DeviceRole.WORKER
                    DeviceMode.KIOSK -> DeviceRole.KIOSK
                    DeviceMode.COORDINATOR -> DeviceRole.COORDINATOR
                    DeviceMode.SUPPORTER -> DeviceRole.SUPPORTER
                }
                model.invite(Grant(role, event.personId, event.siteId, emptyList()))
            }
            CoordinatorEvent.LoadDevices -> model.loadDevices()
            is CoordinatorEvent.Revoke -> model.revokeDevice(event.deviceId)
            is CoordinatorEvent.Export -> {
                reportDir.toFile().mkdirs()
                lastReport = model.exportReport(event.kind, event.from, event.to, reportDir.toString())
            }
            CoordinatorEvent.Sync -> model.sync()
        }
    }

    /** `HH:mm` on [date] in the coop's zone; null for blank (keep), BAD if unreadable. */
    private fun at(date: String, time: String): Long? {
        if (time.isBlank()) return null
        return try {
            LocalDate.parse(date).atTime(LocalTime.parse(time.trim())).atZone(zone).toEpochSecond()
        } catch (_: DateTimeParseException) {
            BAD
        }
    }

    fun onEvent(event: CoordinatorEvent) {
        events.trySend(event)
    }

    override fun close() {
        events.close()
        worker.cancel()
        subscription.cancel()
        subscription.close()
        model.close()
    }

    private companion object {
        const val BAD = Long.MIN_VALUE
    }
}
