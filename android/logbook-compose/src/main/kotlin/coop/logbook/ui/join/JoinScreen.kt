// Joining: type the one-time code, or scan the coordinator's invite QR code (it carries the
// relay's address and the code); the role it grants decides the mode. Draws the Rust
// JoinScreen model's state; the controller runs the join off the UI thread. Scanning is the
// platform's: the app passes `onScan`, which gets a QR code's text (Android: the camera,
// android/app; desktop: a picture file, desktop/QrImage.kt) and hands it to `scanned`.
package coop.logbook.ui.join

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.widthIn
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import coop.logbook.ffi.JoinScreen as JoinScreenModel
import coop.logbook.ffi.JoinScreenListener
import coop.logbook.ffi.JoinScreenState
import coop.logbook.ffi.JoinStage
import coop.logbook.ffi.Logbook
import coop.logbook.ffi.ScreenSubscription
import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.ui.common.AppTheme
import coop.logbook.ui.common.LabelledButton
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

class JoinController(
    logbook: Logbook,
    private val scope: CoroutineScope,
    relayUrl: String,
    private val deviceName: String,
) : AutoCloseable {
    val model = JoinScreenModel(logbook, relayUrl)
    private val _state = MutableStateFlow(model.state())
    val state: StateFlow<JoinScreenState> = _state.asStateFlow()
    private val subscription: ScreenSubscription = model.subscribe(object : JoinScreenListener {
        override fun onState(state: JoinScreenState) {
            _state.value = state
        }
    })

    fun setCode(code: String) = model.setCode(code)
    fun setRelayUrl(url: String) = model.setRelayUrl(url)

    /** A scanned QR code's text (the invite carries the relay's address); false if not an
     * invite or a damaged one (the stage then says which, in the person's language). */
    fun scanned(payload: String): Boolean = model.scanned(payload)

    fun join() {
        scope.launch(Dispatchers.IO) { model.join(deviceName) }
    }

    override fun close() {
        subscription.cancel()
        subscription.close()
        model.close()
    }
}

@Composable
fun JoinScreen(
    state: JoinScreenState,
    controller: JoinController?,
    onJoined: () -> Unit,
    modifier: Modifier = Modifier,
    /** Scan a QR code and return its text, or null when no QR code was found (null: no scanner here). */
    onScan: (suspend () -> String?)? = null,
) {
    val s = LocalStrings.current
    var notFound by remember { mutableStateOf(false) }
    val scope = androidx.compose.runtime.rememberCoroutineScope()
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(
            Modifier.fillMaxSize().padding(24.dp),
            horizontalAlignment = Alignment.CenterHorizontally,
            verticalArrangement = Arrangement.spacedBy(16.dp, Alignment.CenterVertically),
        ) {
            Text(s["kiosk.title"], style = MaterialTheme.typography.headlineMedium, modifier = Modifier.semantics { heading() })
            Text(s.text(state.prompt))
            val stage = state.stage
            if (stage is JoinStage.Joined) {
                Text(s.text(stage.message), modifier = Modifier.testTag("join-done"))
                stage.note?.let { Text(s.text(it)) }
                LabelledButton(s["join.continue"], onJoined)
                return@Column
            }
            OutlinedTextField(
                state.relayUrl, { controller?.setRelayUrl(it) }, label = { Text(s["join.relay"]) }, singleLine = true,
                modifier = Modifier.widthIn(max = 480.dp).fillMaxWidth(),
            )
            OutlinedTextField(
                state.code, { controller?.setCode(it) }, label = { Text(s["join.code"]) }, singleLine = true,
                modifier = Modifier.widthIn(max = 480.dp).fillMaxWidth().testTag("join-code"),
            )
            if (onScan != null) {
                LabelledButton(
                    s["join.scan"],
                    {
                        scope.launch {
                            val text = onScan()
                            notFound = text == null
                            if (text != null) controller?.scanned(text)
                        }
                    },
                    Modifier.testTag("join-scan"),
                    outlined = true,
                )
            }
            if (notFound) Text(s["join.scan.notFound"], color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("join-scan-not-found"))
            if (stage is JoinStage.Failed) Text(s.text(stage.reason), color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("join-failed"))
            if (stage is JoinStage.Joining) Text(s["join.busy"])
            LabelledButton(s["join.button"], { controller?.join() }, enabled = state.canJoin && stage !is JoinStage.Joining)
        }
    }
}

@Composable
fun JoinApp(controller: JoinController, strings: Strings, onScan: (suspend () -> String?)? = null, onJoined: () -> Unit) {
    val state by controller.state.collectAsState()
    CompositionLocalProvider(LocalStrings provides strings) {
        AppTheme { JoinScreen(state, controller, onJoined, onScan = onScan) }
    }
}
