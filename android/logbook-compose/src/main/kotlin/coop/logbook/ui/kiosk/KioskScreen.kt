// The café kiosk screen. It only draws the Rust model's KioskScreenState and reports taps as
// KioskEvents: no library calls, no timers, no kiosk rules. Big targets (tiles 168 dp, PIN keys 104 dp, action buttons
// 88 dp high), plain words, an icon AND a word on every action, and a content description
// on every control for screen readers (and for the UI tests, which click through them).
package coop.logbook.ui.kiosk

import androidx.compose.foundation.background
import androidx.compose.foundation.border
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.layout.widthIn
import androidx.compose.foundation.lazy.grid.GridCells
import androidx.compose.foundation.lazy.grid.LazyVerticalGrid
import androidx.compose.foundation.lazy.grid.items
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.material3.Button
import androidx.compose.material3.ButtonDefaults
import androidx.compose.material3.ColorScheme
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.Icon
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.draw.clip
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.LiveRegionMode
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.clearAndSetSemantics
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.liveRegion
import androidx.compose.ui.semantics.role
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.text.style.TextOverflow
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import coop.logbook.core.HourType
import coop.logbook.core.PunchKind
import coop.logbook.ffi.KioskScreenState
import coop.logbook.ffi.KioskStage
import coop.logbook.ffi.KioskTile
import coop.logbook.ui.KioskIcons
import coop.logbook.ui.LocalStrings

/** Colours in [KioskPalette]; KioskTile.colour indexes it (the model picks, 0 until 8). */
const val PALETTE_SIZE = 8

/** Tile colours: dark enough for white initials (contrast at least 4.5:1). */
val KioskPalette = listOf(
    Color(0xFF1B5E20), Color(0xFF0D47A1), Color(0xFF4A148C), Color(0xFFB71C1C),
    Color(0xFF004D40), Color(0xFF3E2723), Color(0xFF880E4F), Color(0xFF263238),
)

val KioskColours: ColorScheme = lightColorScheme(
    primary = Color(0xFF1B5E20),
    onPrimary = Color.White,
    secondaryContainer = Color(0xFFDCEDC8),
    onSecondaryContainer = Color(0xFF1B3A10),
    background = Color(0xFFF7F5EF),
    surface = Color(0xFFF7F5EF),
    error = Color(0xFFB3261E),
)

@Composable
fun KioskTheme(content: @Composable () -> Unit) = MaterialTheme(colorScheme = KioskColours, content = content)

@Composable
fun KioskScreen(state: KioskScreenState, onEvent: (KioskEvent) -> Unit, modifier: Modifier = Modifier) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(Modifier.fillMaxSize().padding(24.dp)) {
            TopBar(state)
            Spacer(Modifier.height(16.dp))
            Box(Modifier.weight(1f).fillMaxWidth()) {
                when (val stage = state.stage) {
                    KioskStage.Tiles -> Tiles(state, onEvent)
                    is KioskStage.Pin -> PinPad(stage, onEvent)
                    is KioskStage.ChooseHourType -> ChooseHourType(stage, onEvent)
                    is KioskStage.Done -> Done(stage, onEvent)
                    is KioskStage.LockedOut -> LockedOut(stage, onEvent)
                    is KioskStage.Refused -> Refused(stage, onEvent)
                }
            }
        }
    }
}

@Composable
private fun TopBar(state: KioskScreenState) {
    val s = LocalStrings.current
    Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
        Text(
            s["kiosk.title"] + if (state.siteName.isNotEmpty()) " · ${state.siteName}" else "",
            style = MaterialTheme.typography.headlineMedium,
            fontWeight = FontWeight.SemiBold,
            modifier = Modifier.weight(1f).semantics { heading() },
        )
        if (state.offline) OfflineBadge(state)
    }
}

@Composable
private fun OfflineBadge(state: KioskScreenState) {
    val s = LocalStrings.current
    val text = state.badge?.let { s.text(it) } ?: s["offline.badge"]
    Row(
        Modifier
            .testTag("offline-badge")
            .clip(RoundedCornerShape(24.dp))
            .background(Color(0xFFFFE0B2))
            .padding(horizontal = 20.dp, vertical = 12.dp)
            .clearAndSetSemantics { contentDescription = text; liveRegion = LiveRegionMode.Polite },
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Icon(KioskIcons.CloudOff, contentDescription = null, tint = Color(0xFF6D3A00), modifier = Modifier.size(28.dp))
        Spacer(Modifier.width(10.dp))
        Text(text, color = Color(0xFF4A2800), fontSize = 20.sp, fontWeight = FontWeight.Medium)
    }
}

// ---------- tiles ----------

@Composable
private fun Tiles(state: KioskScreenState, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Column(Modifier.fillMaxSize()) {
        OnShiftRow(state.onShift)
        Spacer(Modifier.height(20.dp))
        Text(
            s["tiles.heading"],
            style = MaterialTheme.typography.displaySmall,
            modifier = Modifier.semantics { heading() },
        )
        Spacer(Modifier.height(16.dp))
        if (state.people.isEmpty()) {
            Text(s["tiles.empty"], fontSize = 24.sp)
        } else {
            LazyVerticalGrid(
                columns = GridCells.Adaptive(184.dp),
                contentPadding = PaddingValues(4.dp),
                horizontalArrangement = Arrangement.spacedBy(16.dp),
                verticalArrangement = Arrangement.spacedBy(16.dp),
            ) {
                items(state.people, key = { it.personId }) { person -> Tile(person) { onEvent(KioskEvent.PickPerson(person.personId)) } }
            }
        }
    }
}

@Composable
private fun OnShiftRow(onShift: List<KioskTile>) {
    val s = LocalStrings.current
    val names = onShift.joinToString(", ") { it.name }
    val text = if (onShift.isEmpty()) s["tiles.onShift.none"] else s["tiles.onShift.heading"] + ": " + names
    Row(
        Modifier
            .testTag("on-shift")
            .clip(RoundedCornerShape(16.dp))
            .background(MaterialTheme.colorScheme.secondaryContainer)
            .padding(horizontal = 20.dp, vertical = 14.dp)
            .semantics(mergeDescendants = true) {},
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Box(Modifier.size(14.dp).clip(CircleShape).background(if (onShift.isEmpty()) Color.Gray else Color(0xFF2E7D32)))
        Spacer(Modifier.width(12.dp))
        Text(text, fontSize = 22.sp, color = MaterialTheme.colorScheme.onSecondaryContainer)
    }
}

@Composable
private fun Tile(person: KioskTile, onClick: () -> Unit) {
    val s = LocalStrings.current
    val description = if (person.onShift) s["tile.description.onShift", "name" to person.name]
    else s["tile.description", "name" to person.name]
    Column(
        Modifier
            .testTag("tile-${person.personId}")
            .height(200.dp)
            .clip(RoundedCornerShape(20.dp))
            .background(Color.White)
            .border(
                width = if (person.onShift) 4.dp else 1.dp,
                color = if (person.onShift) Color(0xFF2E7D32) else Color(0xFFCCCCCC),
                shape = RoundedCornerShape(20.dp),
            )
            .clickable(onClickLabel = description, role = Role.Button, onClick = onClick)
            .clearAndSetSemantics { contentDescription = description; role = Role.Button }
            .padding(12.dp),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.Center,
    ) {
        Avatar(person, 96)
        Spacer(Modifier.height(10.dp))
        Text(
            person.name, fontSize = 24.sp, fontWeight = FontWeight.Medium,
            maxLines = 1, overflow = TextOverflow.Ellipsis, textAlign = TextAlign.Center,
        )
        if (person.onShift) {
            Text(s["tile.onShift"], fontSize = 18.sp, color = Color(0xFF2E7D32), fontWeight = FontWeight.SemiBold)
        }
    }
}

@Composable
private fun Avatar(person: KioskTile, sizeDp: Int) {
    Box(
        Modifier.size(sizeDp.dp).clip(CircleShape).background(KioskPalette[person.colour.toInt().mod(KioskPalette.size)]),
        contentAlignment = Alignment.Center,
    ) {
        Text(person.initials, color = Color.White, fontSize = (sizeDp * 0.4).sp, fontWeight = FontWeight.Bold)
    }
}

// ---------- PIN pad ----------

@Composable
private fun PinPad(stage: KioskStage.Pin, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Row(Modifier.fillMaxSize(), horizontalArrangement = Arrangement.spacedBy(32.dp)) {
        // Who, how many digits, what went wrong.
        Column(Modifier.weight(1f)) {
            Row(verticalAlignment = Alignment.CenterVertically) {
                Avatar(stage.person, 80)
                Spacer(Modifier.width(16.dp))
                Text(
                    s["pin.heading", "name" to stage.person.name],
                    style = MaterialTheme.typography.displaySmall,
                    modifier = Modifier.semantics { heading() },
                )
            }
            Spacer(Modifier.height(24.dp))
            Text(s["pin.prompt"], fontSize = 26.sp)
            Spacer(Modifier.height(16.dp))
            PinDots(stage.digits.toInt())
            Spacer(Modifier.height(16.dp))
            val wrong = stage.wrong
            if (wrong != null) {
                Text(
                    s.text(wrong),
                    color = MaterialTheme.colorScheme.error,
                    fontSize = 26.sp,
                    fontWeight = FontWeight.SemiBold,
                    modifier = Modifier.testTag("pin-error").semantics { liveRegion = LiveRegionMode.Assertive },
                )
            }
            Spacer(Modifier.weight(1f))
            BigButton(
                text = s["pin.back"], icon = KioskIcons.Back, outlined = true,
                modifier = Modifier.testTag("back"),
            ) { onEvent(KioskEvent.BackToTiles) }
        }
        // The keys.
        Column(verticalArrangement = Arrangement.spacedBy(14.dp)) {
            for (row in listOf(listOf(1, 2, 3), listOf(4, 5, 6), listOf(7, 8, 9))) {
                Row(horizontalArrangement = Arrangement.spacedBy(14.dp)) {
                    row.forEach { d -> DigitKey(d, enabled = !stage.complete && !stage.busy, onEvent) }
                }
            }
            Row(horizontalArrangement = Arrangement.spacedBy(14.dp)) {
                Spacer(Modifier.size(KEY_SIZE.dp))
                DigitKey(0, enabled = !stage.complete && !stage.busy, onEvent)
                val deleteLabel = s["pin.delete"]
                FilledTonalButton(
                    onClick = { onEvent(KioskEvent.DeleteDigit) },
                    enabled = stage.digits > 0u && !stage.busy,
                    shape = RoundedCornerShape(20.dp),
                    contentPadding = PaddingValues(0.dp),
                    modifier = Modifier.size(KEY_SIZE.dp).testTag("pin-delete")
                        .semantics { contentDescription = deleteLabel },
                ) { Icon(KioskIcons.Backspace, contentDescription = null, modifier = Modifier.size(40.dp)) }
            }
        }
        // What the tap records: enabled once four digits are typed.
        Column(Modifier.widthIn(min = 280.dp, max = 340.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(s["pin.then"], fontSize = 22.sp)
            stage.actions.forEach { action ->
                BigButton(
                    text = s[actionKey(action)],
                    icon = actionIcon(action),
                    enabled = stage.complete && !stage.busy,
                    modifier = Modifier.fillMaxWidth().testTag("action-${action.name}"),
                ) { onEvent(KioskEvent.Act(action)) }
            }
            if (stage.busy) Text(s["pin.busy"], fontSize = 20.sp)
        }
    }
}

private const val KEY_SIZE = 104

@Composable
private fun DigitKey(digit: Int, enabled: Boolean, onEvent: (KioskEvent) -> Unit) {
    val label = LocalStrings.current["pin.key", "digit" to digit]
    Button(
        onClick = { onEvent(KioskEvent.Digit(digit)) },
        enabled = enabled,
        shape = RoundedCornerShape(20.dp),
        contentPadding = PaddingValues(0.dp),
        modifier = Modifier.size(KEY_SIZE.dp).testTag("pin-key-$digit")
            .clearAndSetSemantics { contentDescription = label; role = Role.Button },
    ) { Text(digit.toString(), fontSize = 44.sp, fontWeight = FontWeight.SemiBold) }
}

@Composable
private fun PinDots(digits: Int) {
    val label = LocalStrings.current["pin.entered", "count" to digits]
    Row(
        Modifier.testTag("pin-dots").clearAndSetSemantics { contentDescription = label },
        horizontalArrangement = Arrangement.spacedBy(18.dp),
    ) {
        repeat(PIN_LENGTH) { i ->
            val filled = i < digits
            Box(
                Modifier.size(36.dp).clip(CircleShape)
                    .background(if (filled) MaterialTheme.colorScheme.primary else Color.Transparent)
                    .border(3.dp, MaterialTheme.colorScheme.primary, CircleShape),
            )
        }
    }
}

/** The strings key of an action's button (shared with the worker's phone). */
fun actionKey(action: PunchKind) = when (action) {
    PunchKind.CLOCK_IN -> "action.clockIn"
    PunchKind.CLOCK_OUT -> "action.clockOut"
    PunchKind.BREAK_START -> "action.breakStart"
    PunchKind.BREAK_END -> "action.breakEnd"
}

/** The strings key of a kind of hours. */
fun hourTypeKey(type: HourType) = when (type) {
    HourType.PAID -> "hourType.paid"
    HourType.VOLUNTEER -> "hourType.volunteer"
    HourType.CPO_UNPAID_WORK -> "hourType.cpoUnpaidWork"
    HourType.CPO_OTHER_ACTIVITY -> "hourType.cpoOtherActivity"
    HourType.TRAINING -> "hourType.training"
}

fun actionIcon(action: PunchKind) = when (action) {
    PunchKind.CLOCK_IN -> KioskIcons.ClockIn
    PunchKind.CLOCK_OUT -> KioskIcons.ClockOut
    PunchKind.BREAK_START -> KioskIcons.BreakStart
    PunchKind.BREAK_END -> KioskIcons.BreakEnd
}

/** A large button with an icon and a word; its content description is the word. */
@Composable
private fun BigButton(
    text: String,
    icon: ImageVector,
    modifier: Modifier = Modifier,
    enabled: Boolean = true,
    outlined: Boolean = false,
    onClick: () -> Unit,
) {
    val content: @Composable () -> Unit = {
        Icon(icon, contentDescription = null, modifier = Modifier.size(36.dp))
        Spacer(Modifier.width(14.dp))
        Text(text, fontSize = 26.sp, fontWeight = FontWeight.SemiBold)
    }
    val m = modifier.height(88.dp).widthIn(min = 240.dp)
        .semantics(mergeDescendants = true) { contentDescription = text }
    if (outlined) {
        OutlinedButton(onClick, m, enabled = enabled, shape = RoundedCornerShape(20.dp)) { content() }
    } else {
        Button(
            onClick, m, enabled = enabled, shape = RoundedCornerShape(20.dp),
            colors = ButtonDefaults.buttonColors(),
        ) { content() }
    }
}

// ---------- outcomes ----------

@Composable
private fun Outcome(
    icon: ImageVector,
    iconTint: Color,
    heading: String,
    body: String,
    extra: String?,
    buttonText: String,
    onBack: () -> Unit,
    tag: String,
    buttonIcon: ImageVector = KioskIcons.Back,
) {
    Column(
        Modifier.fillMaxSize().testTag(tag),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.Center,
    ) {
        Box(Modifier.size(132.dp).clip(CircleShape).background(iconTint), contentAlignment = Alignment.Center) {
            Icon(icon, contentDescription = null, tint = Color.White, modifier = Modifier.size(84.dp))
        }
        Spacer(Modifier.height(28.dp))
        Text(
            heading, style = MaterialTheme.typography.displayMedium, textAlign = TextAlign.Center,
            modifier = Modifier.semantics { heading(); liveRegion = LiveRegionMode.Polite },
        )
        Spacer(Modifier.height(16.dp))
        Text(body, fontSize = 28.sp, textAlign = TextAlign.Center)
        if (extra != null) {
            Spacer(Modifier.height(12.dp))
            Text(extra, fontSize = 20.sp, color = Color(0xFF555555), textAlign = TextAlign.Center)
        }
        Spacer(Modifier.height(32.dp))
        BigButton(buttonText, buttonIcon, modifier = Modifier.testTag("back"), onClick = onBack)
    }
}

@Composable
private fun Done(stage: KioskStage.Done, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Outcome(
        icon = KioskIcons.Done,
        iconTint = Color(0xFF2E7D32),
        heading = s.text(stage.message),
        body = s.text(stage.thanks),
        extra = s["done.soon"],
        buttonText = s["done.ok"],
        onBack = { onEvent(KioskEvent.BackToTiles) },
        tag = "done",
        buttonIcon = KioskIcons.Done,
    )
}

@Composable
private fun LockedOut(stage: KioskStage.LockedOut, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Outcome(
        icon = KioskIcons.Lock,
        iconTint = MaterialTheme.colorScheme.error,
        heading = s["locked.heading"],
        body = s.text(stage.message),
        extra = null,
        buttonText = s["pin.back"],
        onBack = { onEvent(KioskEvent.BackToTiles) },
        tag = "locked-out",
    )
}

@Composable
private fun Refused(stage: KioskStage.Refused, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Outcome(
        icon = KioskIcons.Warning,
        iconTint = Color(0xFFE65100),
        heading = s["refused.heading"],
        body = s.text(stage.reason),
        extra = null,
        buttonText = s["pin.back"],
        onBack = { onEvent(KioskEvent.BackToTiles) },
        tag = "refused",
    )
}

// ---------- kind of hours ----------

@Composable
private fun ChooseHourType(stage: KioskStage.ChooseHourType, onEvent: (KioskEvent) -> Unit) {
    val s = LocalStrings.current
    Column(
        Modifier.fillMaxSize().testTag("hour-type"),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(20.dp, Alignment.CenterVertically),
    ) {
        Row(verticalAlignment = Alignment.CenterVertically) {
            Avatar(stage.person, 80)
            Spacer(Modifier.width(16.dp))
            Text(
                s.text(stage.question),
                style = MaterialTheme.typography.displaySmall,
                modifier = Modifier.semantics { heading() },
            )
        }
        stage.choices.forEach { type ->
            BigButton(
                text = s[hourTypeKey(type)], icon = KioskIcons.ClockIn,
                modifier = Modifier.widthIn(min = 420.dp).testTag("hour-type-${type.name}"),
            ) { onEvent(KioskEvent.ChooseHourType(type)) }
        }
        BigButton(
            text = s["pin.back"], icon = KioskIcons.Back, outlined = true,
            modifier = Modifier.testTag("back"),
        ) { onEvent(KioskEvent.BackToTiles) }
    }
}
