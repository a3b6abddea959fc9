// Pieces the worker's phone and the coordinator's screens share: the theme, a titled card,
// the sync status card, and plain formatting of minutes and times. Only Compose and
// Material 3 API that both Android and Compose Desktop have (no experimental APIs).
package coop.logbook.ui.common

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ColumnScope
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import coop.logbook.ffi.ScreenSyncStatus
import coop.logbook.ui.LocalStrings
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter

val AppColours = lightColorScheme(
    primary = Color(0xFF1B5E20),
    onPrimary = Color.White,
    secondaryContainer = Color(0xFFDCEDC8),
    onSecondaryContainer = Color(0xFF1B3A10),
    background = Color(0xFFF7F5EF),
    surface = Color(0xFFF7F5EF),
    error = Color(0xFFB3261E),
)

@Composable
fun AppTheme(content: @Composable () -> Unit) = MaterialTheme(colorScheme = AppColours, content = content)

/** Touch targets: at least 48 dp everywhere (Android's and WCAG's minimum). */
val MinTarget = 48.dp

/** A card with a heading. */
@Composable
fun Section(title: String, modifier: Modifier = Modifier, tag: String? = null, content: @Composable ColumnScope.() -> Unit) {
    Card(modifier.fillMaxWidth().let { if (tag != null) it.testTag(tag) else it }) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(
                title,
                style = MaterialTheme.typography.titleMedium,
                fontWeight = FontWeight.SemiBold,
                modifier = Modifier.semantics { heading() },
            )
            content()
        }
    }
}

/** A button at least 48 dp high whose spoken label is its text. */
@Composable
fun LabelledButton(
    text: String,
    onClick: () -> Unit,
    modifier: Modifier = Modifier,
    enabled: Boolean = true,
    outlined: Boolean = false,
) {
    val m = modifier.heightIn(min = MinTarget).semantics { contentDescription = text }
    if (outlined) OutlinedButton(onClick, m, enabled = enabled) { Text(text) }
    else Button(onClick, m, enabled = enabled) { Text(text) }
}

/** Last sync, changes waiting, and a problem if there is one (every screen but the kiosk). */
@Composable
fun SyncStatusCard(sync: ScreenSyncStatus, onSync: (() -> Unit)?, modifier: Modifier = Modifier) {
    val s = LocalStrings.current
    Section(s["sync.heading"], modifier, tag = "sync-status") {
        Text(s.text(sync.message))
        sync.waiting?.let { Text(s.text(it)) }
        sync.problem?.let { Text(s.text(it), color = MaterialTheme.colorScheme.error) }
        if (onSync != null && sync.joined) LabelledButton(s["sync.now"], onSync, Modifier.testTag("sync-now"))
    }
}

/** `7:30` for 450 minutes. */
fun hoursAndMinutes(minutes: Long): String = "%d:%02d".format(minutes / 60, minutes % 60)

private val timeFormat = DateTimeFormatter.ofPattern("HH:mm")
private val dateTimeFormat = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")

fun clockTime(at: Long, zone: ZoneId): String = timeFormat.format(Instant.ofEpochSecond(at).atZone(zone))
fun dateTime(at: Long, zone: ZoneId): String = dateTimeFormat.format(Instant.ofEpochSecond(at).atZone(zone))
