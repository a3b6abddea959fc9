// The coordinator's screens (laptop or tablet): the review queue, a shift with its audit
// trail and its correction, approving and locking a week; people, sites and PINs; inviting a
// device (the code and its QR image) and revoking devices; training that expires; CPO
// progress; notes their writers let coordinators read; reports exported to files; the sync
// status. It draws the Rust model's CoordinatorScreenState (crate logbook-screens) and
// reports what was done as CoordinatorEvents; the controller turns them into model calls.
package coop.logbook.ui.coordinator

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxHeight
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.toggleable
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Checkbox
import androidx.compose.material3.Divider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.selected
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import coop.logbook.ffi.CoordinatorScreenState
import coop.logbook.ffi.DeviceMode
import coop.logbook.ffi.InviteView
import coop.logbook.ffi.ReportKind
import coop.logbook.ffi.ReviewItem
import coop.logbook.ffi.ReviewKind
import coop.logbook.ffi.ScreenMessage
import coop.logbook.ffi.ShiftDetail
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.common.LabelledButton
import coop.logbook.ui.common.MinTarget
import coop.logbook.ui.common.Section
import coop.logbook.ui.common.SyncStatusCard
import coop.logbook.ui.common.clockTime
import coop.logbook.ui.common.dateTime
import coop.logbook.ui.common.hoursAndMinutes
import coop.logbook.ui.kiosk.hourTypeKey
import coop.logbook.ui.worker.CpoProgress
import java.time.ZoneId

/** The coordinator's screens, one per item of the side list. */
enum class CoordinatorSection(val key: String) {
    REVIEW("coord.tab.review"),
    PEOPLE("coord.tab.people"),
    DEVICES("coord.tab.devices"),
    TRAINING("coord.tab.training"),
    CPO("coord.tab.cpo"),
    NOTES("coord.tab.notes"),
    REPORTS("coord.tab.reports"),
    SYNC("coord.tab.sync"),
}

sealed interface CoordinatorEvent {
    data class OpenShift(val shiftId: String?) : CoordinatorEvent
    /** Times are `HH:mm` on the shift's local date (blank: keep); the reason is required. */
    data class CorrectShift(val shiftId: String, val localDate: String, val start: String, val end: String, val reason: String) :
        CoordinatorEvent
    data class ReviewWeek(val date: String, val people: List<String>, val lock: Boolean) : CoordinatorEvent
    data class AddSite(val name: String) : CoordinatorEvent
    data class AddPerson(val name: String, val siteIds: List<String>) : CoordinatorEvent
    data class SetPin(val personId: String, val pin: String) : CoordinatorEvent
    /** A phone for [personId], a kiosk for [siteId], or a coordinator's device (neither). */
    data class Invite(val mode: DeviceMode, val personId: String? = null, val siteId: String? = null) : CoordinatorEvent
    data object LoadDevices : CoordinatorEvent
    data class Revoke(val deviceId: String) : CoordinatorEvent
    data class Export(val kind: ReportKind, val from: String, val to: String) : CoordinatorEvent
    data object Sync : CoordinatorEvent
}

@Composable
fun CoordinatorScreen(
    state: CoordinatorScreenState,
    section: CoordinatorSection,
    onSection: (CoordinatorSection) -> Unit,
    onEvent: (CoordinatorEvent) -> Unit,
    zone: ZoneId,
    /** Default report period (this week, Monday to Sunday). */
    reportFrom: String,
    reportTo: String,
    modifier: Modifier = Modifier,
    /** A problem the front end found before asking the model (a time it cannot read). */
    notice: ScreenMessage? = null,
) {
    val s = LocalStrings.current
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Row(Modifier.fillMaxSize()) {
            Column(Modifier.width(220.dp).fillMaxHeight().background(Color(0xFFE8EDE3)).padding(vertical = 12.dp)) {
                Text(
                    s["coord.title"],
                    style = MaterialTheme.typography.titleLarge,
                    fontWeight = FontWeight.SemiBold,
                    modifier = Modifier.padding(16.dp).semantics { heading() },
                )
                CoordinatorSection.entries.forEach { item ->
                    val label = s[item.key] + if (item == CoordinatorSection.REVIEW && state.review.isNotEmpty()) " (${state.review.size})" else ""
                    val chosen = item == section
                    Text(
                        label,
                        fontWeight = if (chosen) FontWeight.Bold else FontWeight.Normal,
                        modifier = Modifier.fillMaxWidth().heightIn(min = MinTarget)
                            .background(if (chosen) MaterialTheme.colorScheme.secondaryContainer else Color.Transparent)
                            .clickable(role = Role.Tab) { onSection(item) }
                            .semantics { contentDescription = label; selected = chosen }
                            .testTag("nav-${item.name}")
                            .padding(horizontal = 16.dp, vertical = 14.dp),
                    )
                }
            }
            Column(
                Modifier.weight(1f).fillMaxHeight().verticalScroll(rememberScrollState()).padding(20.dp),
                verticalArrangement = Arrangement.spacedBy(12.dp),
            ) {
                (notice ?: state.outcome)?.let {
                    Text(
                        s.text(it),
                        modifier = Modifier.fillMaxWidth().background(Color(0xFFFFF3CD)).padding(12.dp).testTag("outcome"),
                    )
                }
                when (section) {
                    CoordinatorSection.REVIEW -> Review(state, onEvent, zone)
                    CoordinatorSection.PEOPLE -> People(state, onEvent)
                    CoordinatorSection.DEVICES -> Devices(state, onEvent, zone)
                    CoordinatorSection.TRAINING -> Training(state)
                    CoordinatorSection.CPO -> Cpo(state)
                    CoordinatorSection.NOTES -> Notes(state, zone)
                    CoordinatorSection.REPORTS -> Reports(onEvent, reportFrom, reportTo)
                    CoordinatorSection.SYNC -> SyncStatusCard(state.sync, onSync = { onEvent(CoordinatorEvent.Sync) })
                }
            }
        }
    }
}

// ---------- review ----------

@Composable
private fun Review(state: CoordinatorScreenState, onEvent: (CoordinatorEvent) -> Unit, zone: ZoneId) {
    val s = LocalStrings.current
    Section(s["coord.review.heading"], tag = "review-queue") {
        state.reviewEmpty?.let { Text(s.text(it), modifier = Modifier.testTag("review-empty")) }
        state.review.forEach { item -> ReviewRow(item, onEvent, zone) }
    }
    state.openShift?.let { ShiftCard(it, state, onEvent, zone) }
}

@Composable
private fun ReviewRow(item: ReviewItem, onEvent: (CoordinatorEvent) -> Unit, zone: ZoneId) {
    val s = LocalStrings.current
    Row(Modifier.fillMaxWidth().testTag("review-${item.shiftId ?: item.punchId}"), verticalAlignment = Alignment.CenterVertically) {
        Column(Modifier.weight(1f)) {
            Text("${item.personName} · ${item.localDate} ${clockTime(item.at, zone)}", fontWeight = FontWeight.SemiBold)
            Text(s.text(item.message), color = if (item.kind == ReviewKind.NEEDS_REVIEW) MaterialTheme.colorScheme.error else Color.Unspecified)
        }
        val shiftId = item.shiftId
        if (shiftId != null) {
            LabelledButton(s["coord.review.open", "name" to item.personName], { onEvent(CoordinatorEvent.OpenShift(shiftId)) }, outlined = true)
        }
    }
    Divider()
}

@Composable
private fun ShiftCard(detail: ShiftDetail, state: CoordinatorScreenState, onEvent: (CoordinatorEvent) -> Unit, zone: ZoneId) {
    val s = LocalStrings.current
    val shift = detail.shift
    val name = state.people.firstOrNull { it.personId == shift.personId }?.name ?: ""
    Section(s["coord.shift.heading", "name" to name, "date" to shift.localDate], tag = "shift-detail") {
        Text(s["coord.shift.start", "time" to clockTime(shift.start, zone)])
        Text(shift.end?.let { s["coord.shift.end", "time" to clockTime(it, zone)] } ?: s["coord.shift.noEnd"])
        Text(s["coord.shift.type", "type" to s[hourTypeKey(shift.hourType)]])
        Text(s["coord.shift.counted", "hours" to hoursAndMinutes(shift.countedSeconds / 60)], modifier = Modifier.testTag("shift-counted"))
        Text(
            s[
                when {
                    detail.week.locked -> "coord.week.locked"
                    detail.week.approved -> "coord.week.approved"
                    else -> "coord.week.open"
                },
            ],
            modifier = Modifier.testTag("week-state"),
        )
        if (!detail.week.locked) {
            var start by remember(shift.id) { mutableStateOf("") }
            var end by remember(shift.id) { mutableStateOf(shift.end?.let { clockTime(it, zone) } ?: "") }
            var reason by remember(shift.id) { mutableStateOf("") }
            Text(s["coord.correct.heading"], fontWeight = FontWeight.SemiBold)
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                OutlinedTextField(start, { start = it }, label = { Text(s["coord.correct.start"]) }, singleLine = true, modifier = Modifier.width(200.dp).testTag("correct-start"))
                OutlinedTextField(end, { end = it }, label = { Text(s["coord.correct.end"]) }, singleLine = true, modifier = Modifier.width(200.dp).testTag("correct-end"))
            }
            OutlinedTextField(reason, { reason = it }, label = { Text(s["coord.correct.reason"]) }, modifier = Modifier.fillMaxWidth().testTag("correct-reason"))
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                LabelledButton(s["coord.correct.save"], { onEvent(CoordinatorEvent.CorrectShift(shift.id, shift.localDate, start, end, reason)) }, Modifier.testTag("correct-save"))
                LabelledButton(s["coord.week.approve"], { onEvent(CoordinatorEvent.ReviewWeek(shift.localDate, listOf(shift.personId), false)) }, Modifier.testTag("approve-week"), enabled = !detail.week.approved, outlined = true)
                LabelledButton(s["coord.week.lock"], { onEvent(CoordinatorEvent.ReviewWeek(shift.localDate, listOf(shift.personId), true)) }, Modifier.testTag("lock-week"), outlined = true)
                LabelledButton(s["coord.shift.close"], { onEvent(CoordinatorEvent.OpenShift(null)) }, outlined = true)
            }
        }
        Text(s["coord.audit.heading"], fontWeight = FontWeight.SemiBold)
        if (detail.history.isEmpty()) Text(s["coord.audit.none"])
        detail.history.forEach { e ->
            Text(s["coord.audit.entry", "kind" to s["coord.audit.kind.${e.kind}"], "at" to dateTime(e.at, zone), "reason" to e.reason], modifier = Modifier.testTag("audit-${e.kind}"))
        }
    }
}

// ---------- people, sites, PINs ----------

@Composable
private fun People(state: CoordinatorScreenState, onEvent: (CoordinatorEvent) -> Unit) {
    val s = LocalStrings.current
    val siteNames = state.sites.associate { it.siteId to it.name }
    Section(s["coord.sites.heading"], tag = "sites") {
        state.sites.forEach { Text(it.name) }
        var site by remember { mutableStateOf("") }
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(12.dp)) {
            OutlinedTextField(site, { site = it }, label = { Text(s["coord.sites.name"]) }, singleLine = true, modifier = Modifier.testTag("site-name"))
            LabelledButton(s["coord.sites.add"], { onEvent(CoordinatorEvent.AddSite(site)); site = "" }, enabled = site.isNotBlank())
        }
    }
    Section(s["coord.people.heading"], tag = "people") {
        state.people.forEach { p ->
            var pin by remember(p.personId) { mutableStateOf("") }
            Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                Column(Modifier.weight(1f)) {
                    Text(p.name, fontWeight = FontWeight.SemiBold)
                    Text(
                        p.siteIds.mapNotNull { siteNames[it] }.joinToString(", ") + " · " +
                            s[if (p.hasPin) "coord.people.hasPin" else "coord.people.noPin"] +
                            if (!p.active) " · " + s["coord.people.inactive"] else "",
                        style = MaterialTheme.typography.bodySmall,
                    )
                }
                OutlinedTextField(pin, { if (it.length <= 4 && it.all(Char::isDigit)) pin = it }, label = { Text(s["coord.people.pin"]) }, singleLine = true, modifier = Modifier.width(140.dp))
                LabelledButton(s["coord.people.setPin", "name" to p.name], { onEvent(CoordinatorEvent.SetPin(p.personId, pin)); pin = "" }, enabled = pin.length == 4, outlined = true)
            }
            Divider()
        }
        var name by remember { mutableStateOf("") }
        val chosen = remember { mutableStateListOf<String>() }
        Text(s["coord.people.add.heading"], fontWeight = FontWeight.SemiBold)
        OutlinedTextField(name, { name = it }, label = { Text(s["coord.people.name"]) }, singleLine = true, modifier = Modifier.testTag("person-name"))
        state.sites.forEach { site ->
            val on = site.siteId in chosen
            Row(
                Modifier.heightIn(min = MinTarget).toggleable(on, role = Role.Checkbox) { if (it) chosen += site.siteId else chosen -= site.siteId }
                    .semantics { contentDescription = site.name },
                verticalAlignment = Alignment.CenterVertically,
            ) {
                Checkbox(on, null)
                Text(site.name)
            }
        }
        LabelledButton(s["coord.people.add"], { onEvent(CoordinatorEvent.AddPerson(name, chosen.toList())); name = ""; chosen.clear() }, enabled = name.isNotBlank())
    }
}

// ---------- devices ----------

@Composable
private fun Devices(state: CoordinatorScreenState, onEvent: (CoordinatorEvent) -> Unit, zone: ZoneId) {
    val s = LocalStrings.current
    Section(s["coord.invite.heading"], tag = "invite") {
        Text(s["coord.invite.explain"])
        state.sites.forEach { site ->
            LabelledButton(s["coord.invite.kiosk", "site" to site.name], { onEvent(CoordinatorEvent.Invite(DeviceMode.KIOSK, siteId = site.siteId)) }, outlined = true)
        }
        state.people.filter { it.active }.forEach { p ->
            LabelledButton(s["coord.invite.phone", "name" to p.name], { onEvent(CoordinatorEvent.Invite(DeviceMode.PHONE, personId = p.personId)) }, outlined = true)
        }
        LabelledButton(s["coord.invite.coordinator"], { onEvent(CoordinatorEvent.Invite(DeviceMode.COORDINATOR)) }, outlined = true)
        state.invite?.let { InviteCard(it) }
    }
    Section(s["coord.devices.heading"], tag = "devices") {
        LabelledButton(s["coord.devices.load"], { onEvent(CoordinatorEvent.LoadDevices) }, Modifier.testTag("load-devices"))
        if (state.devices.isEmpty()) Text(s["coord.devices.none"])
        state.devices.forEach { d ->
            Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
                Column(Modifier.weight(1f)) {
                    Text(d.name, fontWeight = FontWeight.SemiBold)
                    Text(
                        s["coord.devices.mode.${d.mode.name}"] + " · " +
                            (d.lastSeenAt?.let { s["coord.devices.seen", "at" to dateTime(it, zone)] } ?: s["coord.devices.neverSeen"]) +
                            if (d.revoked) " · " + s["coord.devices.revoked"] else "",
                        style = MaterialTheme.typography.bodySmall,
                    )
                }
                if (!d.revoked) LabelledButton(s["coord.devices.revoke", "name" to d.name], { onEvent(CoordinatorEvent.Revoke(d.deviceId)) }, outlined = true)
            }
            Divider()
        }
    }
}

@Composable
private fun InviteCard(invite: InviteView) {
    val s = LocalStrings.current
    Row(Modifier.fillMaxWidth().testTag("invite-code"), horizontalArrangement = Arrangement.spacedBy(20.dp), verticalAlignment = Alignment.CenterVertically) {
        QrCode(invite.qrModules, invite.qrWidth.toInt(), s["coord.invite.qr"])
        Column {
            Text(invite.code, fontFamily = FontFamily.Monospace, fontSize = 28.sp, fontWeight = FontWeight.Bold)
            Text(s.text(invite.message))
        }
    }
}

/** The QR code from the model's modules (row by row, true is dark), with a quiet zone. */
@Composable
fun QrCode(modules: List<Boolean>, width: Int, description: String, sizeDp: Int = 220) {
    Canvas(Modifier.size(sizeDp.dp).background(Color.White).semantics { contentDescription = description }) {
        if (width <= 0) return@Canvas
        val cell = size.width / (width + 8)
        for (i in modules.indices) {
            if (!modules[i]) continue
            val x = i % width
            val y = i / width
            drawRect(Color.Black, Offset((x + 4) * cell, (y + 4) * cell), Size(cell, cell))
        }
    }
}

// ---------- training, CPO, notes ----------

@Composable
private fun Training(state: CoordinatorScreenState) {
    val s = LocalStrings.current
    Section(s["coord.training.heading"], tag = "training") {
        if (state.expiring.isEmpty()) Text(s["coord.training.none"])
        state.expiring.forEach { e ->
            Text("${e.personName}: " + s.text(e.message), color = if (e.expired) MaterialTheme.colorScheme.error else Color.Unspecified)
        }
    }
}

@Composable
private fun Cpo(state: CoordinatorScreenState) {
    val s = LocalStrings.current
    Section(s["coord.cpo.heading"], tag = "cpo") {
        if (state.cpo.isEmpty()) Text(s["coord.cpo.none"])
        state.cpo.forEach { row ->
            Text(row.personName, fontWeight = FontWeight.Bold)
            CpoProgress(row.progress)
            Divider()
        }
    }
}

@Composable
private fun Notes(state: CoordinatorScreenState, zone: ZoneId) {
    val s = LocalStrings.current
    Section(s["coord.notes.heading"], tag = "notes") {
        Text(s["coord.notes.explain"], style = MaterialTheme.typography.bodySmall)
        if (state.notes.isEmpty()) Text(s["coord.notes.none"])
        state.notes.forEach { person ->
            Text(person.personName, fontWeight = FontWeight.Bold)
            person.threads.forEach { t ->
                t.entries.forEach { e ->
                    Text(dateTime(e.createdAt, zone), style = MaterialTheme.typography.labelSmall)
                    Text(e.text)
                }
                Divider()
            }
        }
    }
}

// ---------- reports ----------

@Composable
private fun Reports(onEvent: (CoordinatorEvent) -> Unit, defaultFrom: String, defaultTo: String) {
    val s = LocalStrings.current
    var from by remember { mutableStateOf(defaultFrom) }
    var to by remember { mutableStateOf(defaultTo) }
    Section(s["coord.reports.heading"], tag = "reports") {
        Text(s["coord.reports.explain"])
        Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
            OutlinedTextField(from, { from = it }, label = { Text(s["coord.reports.from"]) }, singleLine = true, modifier = Modifier.width(200.dp))
            OutlinedTextField(to, { to = it }, label = { Text(s["coord.reports.to"]) }, singleLine = true, modifier = Modifier.width(200.dp))
        }
        Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
            ReportKind.entries.forEach { kind ->
                LabelledButton(s["coord.reports.${kind.name}"], { onEvent(CoordinatorEvent.Export(kind, from, to)) }, Modifier.testTag("export-${kind.name}"))
            }
        }
    }
}
