// Every control on every kiosk screen has a spoken label and a big target.
@file:OptIn(ExperimentalTestApi::class)

package coop.logbook.desktop

import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.semantics.getOrNull
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasClickAction
import androidx.compose.ui.test.hasTestTag
import androidx.compose.ui.test.runComposeUiTest
import androidx.compose.ui.unit.dp
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.ui.kiosk.KioskScreen
import coop.logbook.ui.kiosk.emptyKioskState
import coop.logbook.ui.kiosk.KioskTheme
import kotlin.test.assertTrue
import org.junit.Test

class KioskAccessibilityTest {
    @Test
    fun everyControlHasALabelAndABigTarget() = runComposeUiTest {
        var shown by mutableStateOf(emptyKioskState())
        var language by mutableStateOf("en")
        setContent {
            CompositionLocalProvider(LocalStrings provides Strings.of(language)) {
                KioskTheme { KioskScreen(shown, onEvent = {}) }
            }
        }
        val problems = mutableListOf<String>()
        var controls = 0
        var keys = 0
        for (lang in Strings.LANGUAGES) for ((name, state) in KioskScreenshotsTest().states) {
            language = lang
            shown = state
            waitForIdle()
            for (node in onAllNodes(hasClickAction()).fetchSemanticsNodes()) {
                controls++
                val label = node.config.getOrNull(SemanticsProperties.ContentDescription)?.joinToString(" ")
                val w = with(density) { node.size.width.toDp() }
                val h = with(density) { node.size.height.toDp() }
                if (label.isNullOrBlank()) problems += "$lang/$name: a control without a content description"
                if (w < 88.dp || h < 88.dp) problems += "$lang/$name: '$label' is only $w x $h"
            }
            for (key in onAllNodes(hasTestTag("pin-key-0").or(hasTestTag("pin-key-5"))).fetchSemanticsNodes()) {
                keys++
                val w = with(density) { key.size.width.toDp() }
                if (w < 96.dp) problems += "$lang/$name: PIN key only $w wide"
            }
        }
        assertTrue(controls > 50, "only $controls controls found")
        assertTrue(keys > 0, "no PIN keys found")
        assertTrue(problems.isEmpty(), problems.joinToString("\n"))
    }
}
