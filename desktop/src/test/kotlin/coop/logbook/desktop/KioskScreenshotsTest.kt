// Every kiosk screen state, drawn in English and Italian to target/screenshots/, none blank.
package coop.logbook.desktop

import coop.logbook.ui.LocalStrings
import coop.logbook.ui.Strings
import coop.logbook.ui.kiosk.KioskAction
import coop.logbook.ui.kiosk.KioskScreen
import coop.logbook.ui.kiosk.KioskStage
import coop.logbook.ui.kiosk.KioskState
import coop.logbook.ui.kiosk.KioskTheme
import coop.logbook.ui.kiosk.PersonTile
import androidx.compose.runtime.CompositionLocalProvider
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import org.junit.Test

class KioskScreenshotsTest {
    private val people = listOf(
        PersonTile("p-1", "Aisha Khan", 0, onShift = false),
        PersonTile("p-2", "Ben Murray", 1, onShift = true),
        PersonTile("p-3", "Chiara Rossi", 2, onShift = false),
        PersonTile("p-4", "Dawit Bekele", 3, onShift = true),
        PersonTile("p-5", "Eilidh Fraser", 4, onShift = false),
        PersonTile("p-6", "Marco", 5, onShift = false),
    )
    private val base = KioskState(siteName = "Café", people = people)
    private val aisha = people[0]
    private val ben = people[1]

    /** One state per kiosk screen. */
    val states: Map<String, KioskState> = linkedMapOf(
        "tiles" to base,
        "tiles-empty" to KioskState(siteName = "Café"),
        "pin" to base.copy(stage = KioskStage.Pin(aisha, digits = 2)),
        "pin-on-shift" to base.copy(stage = KioskStage.Pin(ben, digits = 4)),
        "pin-wrong" to base.copy(stage = KioskStage.Pin(aisha, digits = 0, triesLeft = 3)),
        "pin-last-try" to base.copy(stage = KioskStage.Pin(aisha, digits = 1, triesLeft = 1)),
        "confirmation" to base.copy(stage = KioskStage.Done(aisha, KioskAction.CLOCK_IN, "08:02")),
        "confirmation-clock-out" to base.copy(stage = KioskStage.Done(ben, KioskAction.CLOCK_OUT, "16:30")),
        "lockout" to base.copy(stage = KioskStage.LockedOut(aisha, 15)),
        "refused" to base.copy(stage = KioskStage.Refused(aisha, "already clocked in")),
        "offline" to base.copy(offline = true, pendingTaps = 3),
        "offline-pin" to base.copy(offline = true, pendingTaps = 1, stage = KioskStage.Pin(aisha, digits = 3)),
    )

    @Test
    fun everyKioskStateRendersInEnglishAndItalian() {
        val written = mutableListOf<String>()
        for ((name, state) in states) {
            val byLanguage = Strings.LANGUAGES.associateWith { lang ->
                val (file, stats) = Screenshots.render("kiosk-$name-$lang") {
                    CompositionLocalProvider(LocalStrings provides Strings.of(lang)) {
                        KioskTheme { KioskScreen(state, onEvent = {}) }
                    }
                }
                Screenshots.assertNotBlank(file, stats)
                written += file.name
                file.readBytes()
            }
            // The words differ, so the pictures must too (catches a screen that ignores the locale).
            assertNotEquals(
                byLanguage.getValue("en").toList(), byLanguage.getValue("it").toList(),
                "kiosk-$name: English and Italian render identically",
            )
        }
        assertTrue(written.size == states.size * Strings.LANGUAGES.size)
        println("screenshots: ${written.size} PNGs in ${Screenshots.dir}")
    }

    @Test
    fun aBlankImageIsCaught() {
        val (file, stats) = Screenshots.render("self-check-blank", 200, 100) {}
        val failed = runCatching { Screenshots.assertNotBlank(file, stats) }.isFailure
        assertTrue(failed, "the blank check passed an empty scene")
        file.delete()
    }
}
