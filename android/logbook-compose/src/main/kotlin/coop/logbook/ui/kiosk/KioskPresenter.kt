// Makes KioskState from the real library (KioskFlow and the FFI's kiosk, directory and sync
// calls) and turns KioskEvents into library calls. The only file of the kiosk UI that knows
// the library; a Rust screen model can replace it later without touching KioskScreen.
package coop.logbook.ui.kiosk

import coop.logbook.CoopLogbook
import coop.logbook.KioskFlow
import coop.logbook.KioskResult
import coop.logbook.core.PunchKind
import coop.logbook.ffi.LogbookException
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

class KioskPresenter(
    private val book: CoopLogbook,
    private val scope: CoroutineScope,
    /** The site whose names to show; null = the site this kiosk was joined to (its grant). */
    private val siteId: String? = null,
    /** How long a confirmation, lockout or refusal stays before the names come back. */
    private val outcomeMillis: Long = 5_000,
    /** How long an untouched PIN pad stays before the names come back. */
    private val pinIdleMillis: Long = 30_000,
    /** Where library calls run (quick, blocking SQLite work). */
    private val io: CoroutineDispatcher = Dispatchers.IO,
    private val now: () -> Instant = Instant::now,
) {
    private val flow = KioskFlow(book)

    // A kiosk joined to a relay cannot read coop() today (the core answers NotInitialised:
    // its directory copy has no coop name), so fall back to this machine's time zone and the
    // core's default of 5 wrong PINs.
    private val zone: ZoneId = runCatching { ZoneId.of(book.coop.timezone) }.getOrDefault(ZoneId.systemDefault())
    private val maxFailures: Int = runCatching { book.coop.settings.pinMaxFailures.toInt() }.getOrDefault(5)
    private val timeFormat = DateTimeFormatter.ofPattern("HH:mm")

    private val _state = MutableStateFlow(KioskState())
    val state: StateFlow<KioskState> = _state.asStateFlow()

    /** The digits typed so far; never part of the state. */
    private val pin = StringBuilder()

    /**
     * Wrong PINs per person since this kiosk app started (the core keeps the real count and
     * decides the lockout; it does not report the count, so "tries left" is counted here).
     */
    private val failures = mutableMapOf<String, Int>()
    private var timer: Job? = null
    @Volatile private var offline = false

    /** Events, timers and finished taps change the PIN and the stage one at a time. */
    private val lock = Any()

    /** Read names, who is on shift and the sync backlog from the store. Blocking. */
    fun reload() {
        val site = siteId ?: book.grant?.siteId
        val roster = book.kiosk.roster(siteId)
        val onShift = flow.onShift().map { it.personId }.toSet()
        val siteName = site?.let { id -> book.directory.sites().firstOrNull { it.id == id }?.name } ?: ""
        val pending = runCatching { book.pendingChanges.toInt() }.getOrDefault(0)
        val colours = tileColours(roster.map { it.personId })
        val people = roster.map { PersonTile(it.personId, it.name, colours.getValue(it.personId), it.personId in onShift) }
        _state.update { s ->
            s.copy(
                siteName = siteName,
                people = people,
                offline = offline,
                pendingTaps = pending,
                stage = when (val st = s.stage) {
                    is KioskStage.Pin -> st.copy(person = people.firstOrNull { it.id == st.person.id } ?: st.person)
                    else -> st
                },
            )
        }
    }

    /** [reload] off the calling thread. */
    fun refresh(): Job = scope.launch { withContext(io) { reload() } }

    /**
     * Sync with the relay once and note whether it was reachable (the offline badge).
     * Returns true if the sync reached the relay.
     */
    suspend fun sync(): Boolean {
        val ok = try {
            book.sync()
            true
        } catch (e: LogbookException.Network) {
            false
        } catch (e: LogbookException.NotInitialised) {
            false
        }
        offline = !ok
        withContext(io) { reload() }
        return ok
    }

    fun onEvent(event: KioskEvent) {
        synchronized(lock) { handle(event) }
    }

    private fun handle(event: KioskEvent) {
        when (event) {
            is KioskEvent.PickPerson -> {
                val person = _state.value.people.firstOrNull { it.id == event.personId } ?: return
                pin.clear()
                show(KioskStage.Pin(person, triesLeft = triesLeftAfterMistake(person.id)), pinIdleMillis)
            }
            is KioskEvent.Digit -> {
                val stage = _state.value.stage as? KioskStage.Pin ?: return
                if (stage.busy || pin.length >= PIN_LENGTH || event.digit !in 0..9) return
                pin.append(event.digit)
                show(stage.copy(digits = pin.length), pinIdleMillis)
            }
            KioskEvent.DeleteDigit -> {
                val stage = _state.value.stage as? KioskStage.Pin ?: return
                if (stage.busy || pin.isEmpty()) return
                pin.setLength(pin.length - 1)
                show(stage.copy(digits = pin.length), pinIdleMillis)
            }
            is KioskEvent.Act -> act(event.action)
            KioskEvent.BackToTiles -> backToTiles()
        }
    }

    // Called with the lock held.
    private fun act(action: KioskAction) {
        val stage = _state.value.stage as? KioskStage.Pin ?: return
        if (!stage.complete || stage.busy || action !in stage.actions) return
        val entered = pin.toString()
        pin.clear()
        timer?.cancel()
        _state.update { it.copy(stage = stage.copy(busy = true)) }
        val person = stage.person
        scope.launch {
            val next = withContext(io) {
                val result = try {
                    flow.tap(person.id, entered, action.toPunchKind())
                } catch (e: LogbookException) {
                    // Anything KioskFlow does not turn into a result (a name removed meanwhile,
                    // a storage error): show the core's reason rather than crash the kiosk.
                    KioskResult.Refused((e.message ?: e.toString()).substringAfter("reason="))
                }
                val outcome = synchronized(lock) { outcomeOf(person, action, result) }
                runCatching { reload() }
                outcome
            }
            synchronized(lock) { show(next, if (next is KioskStage.Pin) pinIdleMillis else outcomeMillis) }
        }
    }

    // Called with the lock held.
    private fun outcomeOf(person: PersonTile, action: KioskAction, result: KioskResult): KioskStage =
        when (result) {
            is KioskResult.Punched -> {
                failures.remove(person.id)
                KioskStage.Done(person, action, timeFormat.format(now().atZone(zone)))
            }
            KioskResult.WrongPin -> {
                failures[person.id] = (failures[person.id] ?: 0) + 1
                KioskStage.Pin(person, digits = 0, triesLeft = triesLeftAfterMistake(person.id))
            }
            is KioskResult.LockedOut -> {
                // The core starts counting again once a lockout has expired.
                failures.remove(person.id)
                val minutes = ((result.retryAfter.inWholeSeconds + 59) / 60).toInt().coerceAtLeast(1)
                KioskStage.LockedOut(person, minutes)
            }
            is KioskResult.Refused -> KioskStage.Refused(person, result.reason)
        }

    /**
     * A palette index per person: from the id (so a person keeps their colour when others
     * come and go), moved on to the next free colour when two people on one screen would
     * share one (while colours are left).
     */
    private fun tileColours(ids: List<String>): Map<String, Int> {
        val used = mutableSetOf<Int>()
        return ids.associateWith { id ->
            var c = (id.hashCode() and 0x7fffffff) % PALETTE_SIZE
            if (used.size < PALETTE_SIZE) while (c in used) c = (c + 1) % PALETTE_SIZE
            used += c
            c
        }
    }

    private fun triesLeftAfterMistake(personId: String): Int? =
        failures[personId]?.let { (maxFailures - it).coerceAtLeast(1) }

    private fun backToTiles() {
        timer?.cancel()
        pin.clear()
        _state.update { it.copy(stage = KioskStage.Tiles) }
    }

    /** Show [stage]; go back to the names after [idleMillis] unless something else happens first. */
    private fun show(stage: KioskStage, idleMillis: Long) {
        timer?.cancel()
        _state.update { it.copy(stage = stage) }
        timer = scope.launch {
            delay(idleMillis)
            synchronized(lock) { if (_state.value.stage == stage) backToTiles() }
        }
    }

    private fun KioskAction.toPunchKind(): PunchKind = when (this) {
        KioskAction.CLOCK_IN -> PunchKind.CLOCK_IN
        KioskAction.CLOCK_OUT -> PunchKind.CLOCK_OUT
        KioskAction.BREAK_START -> PunchKind.BREAK_START
        KioskAction.BREAK_END -> PunchKind.BREAK_END
    }
}
