// Every control on the phone's and the coordinator's screens has a spoken label and a target
// of at least 48 x 48 dp (Android's and WCAG's minimum), in both languages.
@file:OptIn(ExperimentalTestApi::class)

package coop.logbook.desktop

import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.semantics.getOrNull
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasClickAction
import androidx.compose.ui.test.runComposeUiTest
import androidx.compose.ui.unit.dp
import coop.logbook.ui.Strings
import coop.logbook.ui.coordinator.CoordinatorApp
import coop.logbook.ui.coordinator.CoordinatorController
import coop.logbook.ui.coordinator.CoordinatorSection
import coop.logbook.ui.worker.WorkerApp
import coop.logbook.ui.worker.WorkerController
import coop.logbook.ui.worker.WorkerSection
import kotlin.io.path.createTempDirectory
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import org.junit.After
import org.junit.Test

class AppAccessibilityTest {
    private val ws = Workspace()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun close() {
        scope.cancel()
        ws.close()
    }

    @Test
    fun everyControlHasALabelAndA48dpTarget() = runComposeUiTest {
        val book = ws.open("demo")
        demoCoop(book)
        val zone = zoneOf(book)
        val phone = ws.own(WorkerController(book.raw, scope, demoPerson(book, "Aisha Khan")))
        val coordinator = ws.own(CoordinatorController(book.raw, scope, "", zone, createTempDirectory("reports-")))
        coordinator.model.openShift(coordinator.state.value.review.first().shiftId)
        var screen by mutableStateOf("phone:TODAY")
        var language by mutableStateOf("en")
        setContent {
            val (mode, section) = screen.split(":")
            // A key() per screen: each starts on its own section.
            androidx.compose.runtime.key(screen, language) {
                if (mode == "phone") WorkerApp(phone, Strings.of(language), zone, WorkerSection.valueOf(section))
                else CoordinatorApp(coordinator, Strings.of(language), CoordinatorSection.valueOf(section))
            }
        }
        val problems = mutableListOf<String>()
        var controls = 0
        val screens = WorkerSection.entries.map { "phone:${it.name}" } + CoordinatorSection.entries.map { "coordinator:${it.name}" }
        for (lang in Strings.LANGUAGES) for (name in screens) {
            language = lang
            screen = name
            waitForIdle()
            for (node in onAllNodes(hasClickAction()).fetchSemanticsNodes()) {
                controls++
                val label = node.config.getOrNull(SemanticsProperties.ContentDescription)?.joinToString(" ")
                    ?: node.config.getOrNull(SemanticsProperties.Text)?.joinToString(" ")
                val w = with(density) { node.size.width.toDp() }
                val h = with(density) { node.size.height.toDp() }
                if (label.isNullOrBlank()) problems += "$lang/$name: a control without a label"
                if (w < 48.dp || h < 48.dp) problems += "$lang/$name: '$label' is only $w x $h"
            }
        }
        assertTrue(controls > 100, "only $controls controls found")
        assertTrue(problems.isEmpty(), problems.joinToString("\n"))
    }
}
