// The coordinator's screens wired to their controller (the Rust model), with the side list:
// the composable an app (Android tablet, or the desktop's coordinator mode) shows.
package coop.logbook.ui.coordinator

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
import java.time.DayOfWeek
import java.time.LocalDate
import java.time.ZoneId

/** This week, Monday to Sunday, in [zone]: the reports' default period. */
fun thisWeek(zone: ZoneId): Pair<String, String> {
    val monday = LocalDate.now(zone).with(DayOfWeek.MONDAY)
    return monday.toString() to monday.plusDays(6).toString()
}

@Composable
fun CoordinatorApp(controller: CoordinatorController, strings: Strings, first: CoordinatorSection = CoordinatorSection.REVIEW) {
    val state by controller.state.collectAsState()
    val notice by controller.notice.collectAsState()
    var section by remember { mutableStateOf(first) }
    val (from, to) = remember { thisWeek(controller.zone) }
    CompositionLocalProvider(LocalStrings provides strings) {
        AppTheme {
            CoordinatorScreen(state, section, { section = it }, controller::onEvent, controller.zone, from, to, notice = notice)
        }
    }
}
