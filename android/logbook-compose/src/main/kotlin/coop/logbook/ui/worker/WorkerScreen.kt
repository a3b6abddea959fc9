// The worker's phone: today and the one right button, this week's hours by type, community
// payback (CPO) progress, training due, note threads with the consent switch, and the sync
// status. It draws the Rust model's WorkerHomeScreenState (crate logbook-screens) and reports
// taps as WorkerEvents; every sentence is a message key looked up in the strings files.
package coop.logbook.ui.worker

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.toggleable
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.ScrollableTabRow
import androidx.compose.material3.Surface
import androidx.compose.material3.Switch
import androidx.compose.material3.Tab
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.ffi.CpoCard
import coop.logbook.ffi.NotesAccess
import coop.logbook.ffi.WorkerHomeScreenState
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.common.LabelledButton
import coop.logbook.ui.common.MinTarget
import coop.logbook.ui.common.Section
import coop.logbook.ui.common.SyncStatusCard
import coop.logbook.ui.common.dateTime
import coop.logbook.ui.common.hoursAndMinutes
import coop.logbook.ui.kiosk.actionKey
import coop.logbook.ui.kiosk.hourTypeKey
import java.time.ZoneId

/** The phone's tabs. */
enum class WorkerSection(val key: String) {
    TODAY("worker.tab.today"),
    HOURS("worker.tab.hours"),
    CPO("worker.tab.cpo"),
    TRAINING("worker.tab.training"),
    NOTES("worker.tab.notes"),
    SYNC("worker.tab.sync"),
}

sealed interface WorkerEvent {
    data class Tap(val action: PunchKind, val hourType: HourType? = null) : WorkerEvent
    data class WriteNote(val threadId: String?, val text: String) : WorkerEvent
    data class SetConsent(val coordinatorsMayRead: Boolean) : WorkerEvent
    /** Let a device that asks read the notes (the person compared its code). */
    data class ApproveNotesDevice(val deviceKey: String) : WorkerEvent
    /** Not now: the device leaves the list until the screen is opened again. */
    data class NotNow(val deviceKey: String) : WorkerEvent
    data object Sync : WorkerEvent
}

@Composable
fun WorkerScreen(
    state: WorkerHomeScreenState,
    section: WorkerSection,
    onSection: (WorkerSection) -> Unit,
    onEvent: (WorkerEvent) -> Unit,
    zone: ZoneId,
    modifier: Modifier = Modifier,
) {
    val s = LocalStrings.current
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(Modifier.fillMaxSize()) {
            Text(
                s["worker.title", "name" to state.name],
                style = MaterialTheme.typography.headlineSmall,
                fontWeight = FontWeight.SemiBold,
                modifier = Modifier.padding(16.dp).semantics { heading() },
            )
            ScrollableTabRow(selectedTabIndex = section.ordinal, edgePadding = 8.dp) {
                WorkerSection.entries.forEach { tab ->
                    val label = s[tab.key]
                    Tab(
                        selected = tab == section,
                        onClick = { onSection(tab) },
                        text = { Text(label) },
                        modifier = Modifier.heightIn(min = MinTarget).testTag("tab-${tab.name}")
                            .semantics { contentDescription = label },
                    )
                }
            }
            Column(
                Modifier.fillMaxWidth().weight(1f).verticalScroll(rememberScrollState()).padding(16.dp),
                verticalArrangement = Arrangement.spacedBy(12.dp),
            ) {
                when (section) {
                    WorkerSection.TODAY -> Today(state, onEvent)
                    WorkerSection.HOURS -> Hours(state)
                    WorkerSection.CPO -> Cpo(state.cpo)
                    WorkerSection.TRAINING -> Training(state)
                    WorkerSection.NOTES -> Notes(state, onEvent, zone)
                    WorkerSection.SYNC -> SyncStatusCard(state.sync, onSync = { onEvent(WorkerEvent.Sync) })
                }
            }
        }
    }
}

@Composable
private fun Today(state: WorkerHomeScreenState, onEvent: (WorkerEvent) -> Unit) {
    val s = LocalStrings.current
    val today = state.today
    Section(s["worker.today.heading"], tag = "today") {
        Text(s.text(today.message), fontSize = 22.sp, modifier = Modifier.testTag("today-status"))
        val primary = today.primary
        if (primary.action == PunchKind.CLOCK_IN && today.hourTypes.size > 1) {
            // More than one kind of hours: the clock-in button asks which, one button each.
            Text(s["hourType.question"])
            today.hourTypes.forEach { type ->
                LabelledButton(
                    s["worker.clockInAs", "type" to s[hourTypeKey(type)]],
                    { onEvent(WorkerEvent.Tap(PunchKind.CLOCK_IN, type)) },
                    Modifier.fillMaxWidth().testTag("clock-in-${type.name}"),
                )
            }
        } else {
            LabelledButton(
                s.text(primary.label),
                { onEvent(WorkerEvent.Tap(primary.action)) },
                Modifier.fillMaxWidth().heightIn(min = 64.dp).testTag("primary"),
            )
        }
        today.secondary?.let { b ->
            LabelledButton(
                s.text(b.label), { onEvent(WorkerEvent.Tap(b.action)) },
                Modifier.fillMaxWidth().testTag("secondary"), outlined = true,
            )
        }
        today.confirmation?.let { Text(s.text(it), color = MaterialTheme.colorScheme.primary, modifier = Modifier.testTag("confirmation")) }
        today.refusal?.let { Text(s.text(it), color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("refusal")) }
    }
    Hours(state)
}

@Composable
private fun Hours(state: WorkerHomeScreenState) {
    val s = LocalStrings.current
    Section(s["worker.week.heading", "date" to state.weekStart], tag = "week-hours") {
        if (state.week.isEmpty()) Text(s["worker.week.none"])
        state.week.forEach { h ->
            Row(Modifier.fillMaxWidth().testTag("hours-${h.hourType.name}")) {
                Text(s[hourTypeKey(h.hourType)], Modifier.weight(1f))
                Text(hoursAndMinutes(h.minutes.toLong()), fontWeight = FontWeight.SemiBold)
            }
        }
        if (state.week.size > 1) {
            Row(Modifier.fillMaxWidth()) {
                Text(s["worker.week.total"], Modifier.weight(1f), fontWeight = FontWeight.SemiBold)
                Text(hoursAndMinutes(state.week.sumOf { it.minutes.toLong() }), fontWeight = FontWeight.SemiBold)
            }
        }
    }
}

@Composable
fun CpoProgress(card: CpoCard) {
    val s = LocalStrings.current
    val total = card.doneMinutes.toLong() + card.leftMinutes.toLong()
    Text(s.text(card.message), fontWeight = FontWeight.SemiBold)
    LinearProgressIndicator(
        progress = if (total == 0L) 1f else card.doneMinutes.toFloat() / total,
        modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp),
    )
    Text(s["cpo.done", "done" to hoursAndMinutes(card.doneMinutes.toLong()), "hours" to card.hoursOrdered])
    Text(s["cpo.left", "left" to hoursAndMinutes(card.leftMinutes.toLong()), "deadline" to card.deadline])
    Text(
        s[
            "cpo.otherCap",
            "counted" to hoursAndMinutes(card.otherActivityCountedMinutes.toLong()),
            "cap" to hoursAndMinutes(card.otherActivityCapMinutes.toLong()),
        ],
    )
    if (!card.complete && !card.onTrack) Text(s["cpo.behind"], color = MaterialTheme.colorScheme.error)
}

@Composable
private fun Cpo(cards: List<CpoCard>) {
    val s = LocalStrings.current
    Section(s["worker.tab.cpo"], tag = "cpo") {
        if (cards.isEmpty()) Text(s["worker.cpo.none"])
        cards.forEach { CpoProgress(it) }
    }
}

@Composable
private fun Training(state: WorkerHomeScreenState) {
    val s = LocalStrings.current
    Section(s["worker.training.heading"], tag = "training") {
        if (state.trainingDue.isEmpty()) Text(s["worker.training.none"])
        state.trainingDue.forEach { t ->
            Text(s.text(t.message), color = if (t.expired) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface)
        }
    }
}

@Composable
private fun Notes(state: WorkerHomeScreenState, onEvent: (WorkerEvent) -> Unit, zone: ZoneId) {
    val s = LocalStrings.current
    val consent = state.consent == true
    val consentLabel = s["notes.consent"]
    NotesAccessSection(state.notesAccess, onEvent)
    Section(s["notes.heading"], tag = "notes") {
        Row(
            Modifier.fillMaxWidth().heightIn(min = MinTarget)
                .toggleable(value = consent, role = Role.Switch, onValueChange = { onEvent(WorkerEvent.SetConsent(it)) })
                .semantics { contentDescription = consentLabel }
                .testTag("consent"),
            verticalAlignment = Alignment.CenterVertically,
        ) {
            Text(consentLabel, Modifier.weight(1f))
            Spacer(Modifier.width(12.dp))
            Switch(checked = consent, onCheckedChange = null)
        }
        Text(s[if (consent) "notes.consent.on" else "notes.consent.off"], style = MaterialTheme.typography.bodySmall)
        if (state.notes.isEmpty()) Text(s["notes.none"])
        state.notes.forEach { thread ->
            Column(Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("thread-${thread.threadId}")) {
                thread.entries.forEach { e ->
                    Text(dateTime(e.createdAt, zone), style = MaterialTheme.typography.labelSmall)
                    Text(e.text)
                }
                NoteWriter(s["notes.reply"], "reply-${thread.threadId}") { onEvent(WorkerEvent.WriteNote(thread.threadId, it)) }
            }
        }
        NoteWriter(s["notes.new"], "new-note") { onEvent(WorkerEvent.WriteNote(null, it)) }
    }
}

/**
 * Devices asking to read the notes (a supporter's, or another of the person's own), each
 * with who it is, the code to compare with the one on its screen, and yes / not now; then
 * the devices that already may. Shown only when there is something to show.
 */
@Composable
private fun NotesAccessSection(access: NotesAccess, onEvent: (WorkerEvent) -> Unit) {
    val s = LocalStrings.current
    if (access.asking.isEmpty() && access.approved.isEmpty() && access.outcome == null) return
    if (access.asking.isNotEmpty()) {
        Section(s["notesAccess.heading"], tag = "notes-access") {
            Text(s["notesAccess.explain"])
            access.asking.forEach { d ->
                Column(Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("asking-${d.deviceKey}")) {
                    Text(s.text(d.who), fontWeight = FontWeight.SemiBold)
                    Text(s.text(d.check), fontSize = 20.sp, modifier = Modifier.testTag("code-${d.deviceKey}"))
                    Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                        LabelledButton(
                            s["notesAccess.approve"], { onEvent(WorkerEvent.ApproveNotesDevice(d.deviceKey)) },
                            Modifier.testTag("approve-${d.deviceKey}"),
                        )
                        LabelledButton(
                            s["notesAccess.notNow"], { onEvent(WorkerEvent.NotNow(d.deviceKey)) },
                            Modifier.testTag("not-now-${d.deviceKey}"), outlined = true,
                        )
                    }
                }
            }
        }
    }
    access.outcome?.let { Text(s.text(it), color = MaterialTheme.colorScheme.primary, modifier = Modifier.testTag("notes-access-outcome")) }
    if (access.approved.isNotEmpty()) {
        Section(s["notesAccess.readers"], tag = "notes-readers") {
            access.approved.forEach { d ->
                Text(s.text(d.who) + " · " + s.text(d.check), modifier = Modifier.testTag("reader-${d.deviceKey}"))
            }
        }
    }
}

@Composable
private fun NoteWriter(label: String, tag: String, onSend: (String) -> Unit) {
    val s = LocalStrings.current
    var text by remember { mutableStateOf("") }
    OutlinedTextField(
        value = text,
        onValueChange = { text = it },
        label = { Text(label) },
        modifier = Modifier.fillMaxWidth().testTag("$tag-text"),
    )
    LabelledButton(
        s["notes.send"] + ": " + label,
        { onSend(text); text = "" },
        Modifier.testTag("$tag-send"),
        enabled = text.isNotBlank(),
        outlined = true,
    )
}
