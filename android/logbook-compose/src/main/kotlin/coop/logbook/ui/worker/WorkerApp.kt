// The worker's phone screen wired to its controller (the Rust model), with its tabs: the
// composable an app (Android, or the desktop's phone mode) puts in its window or activity.
package coop.logbook.ui.worker

import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.ui.common.AppTheme
import java.time.ZoneId

@Composable
fun WorkerApp(controller: WorkerController, strings: Strings, zone: ZoneId, first: WorkerSection = WorkerSection.TODAY) {
    val state by controller.state.collectAsState()
    var section by remember { mutableStateOf(first) }
    CompositionLocalProvider(LocalStrings provides strings) {
        AppTheme { WorkerScreen(state, section, { section = it }, controller::onEvent, zone) }
    }
}
