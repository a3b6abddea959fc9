// The kiosk screen wired to its controller (the Rust model): the one composable an app
// (desktop or Android) puts in its window or activity.
package coop.logbook.ui.kiosk

import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings

@Composable
fun KioskRoute(controller: KioskController, strings: Strings, modifier: Modifier = Modifier) {
    val state by controller.state.collectAsState()
    CompositionLocalProvider(LocalStrings provides strings) {
        KioskTheme { KioskScreen(state, controller::onEvent, modifier) }
    }
}
