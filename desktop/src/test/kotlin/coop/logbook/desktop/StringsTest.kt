// Every user-facing string exists in every language, with the same placeholders.
package coop.logbook.desktop

import coop.logbook.ui.MissingStringException
import coop.logbook.ui.Strings
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.Test

class StringsTest {
    private val placeholder = Regex("\\{([a-zA-Z]+)\\}")

    @Test
    fun everyKeyHasATranslationInEveryLanguage() {
        val english = Strings.table("en")
        assertTrue(english.size > 20, "strings_en.properties is missing or nearly empty")
        for (lang in Strings.LANGUAGES) {
            val table = Strings.table(lang)
            val missing = english.keys - table.keys
            val extra = table.keys - english.keys
            assertTrue(missing.isEmpty(), "strings_$lang.properties lacks: ${missing.sorted()}")
            assertTrue(extra.isEmpty(), "strings_$lang.properties has keys English lacks: ${extra.sorted()}")
            for ((key, text) in table) {
                assertTrue(text.isNotBlank(), "$lang: '$key' is empty")
                assertEquals(
                    placeholder.findAll(english.getValue(key)).map { it.value }.toSet(),
                    placeholder.findAll(text).map { it.value }.toSet(),
                    "$lang: '$key' has different placeholders from English",
                )
            }
        }
    }

    @Test
    fun italianIsReallyTranslatedAndReadAsUtf8() {
        val it = Strings.of("it")
        assertEquals("Tocca il tuo nome", it["tiles.heading"])
        assertEquals("Non è andata", it["refused.heading"]) // UTF-8, not Latin-1 mojibake
        assertEquals("PIN sbagliato. Ti restano 3 tentativi.", it.plural("pin.wrong", 3))
        assertEquals("PIN sbagliato. Ti resta 1 tentativo.", it.plural("pin.wrong", 1))
        val same = Strings.table("en").filter { (k, v) -> Strings.table("it")[k] == v }.keys
        // Only the brand name may stay the same in both languages.
        assertEquals(setOf("kiosk.title"), same, "untranslated Italian strings: $same")
    }

    @Test
    fun everyMessageKeyOfTheRustScreenModelsHasATextInEveryLanguage() {
        // Plural keys (those the models send with a `count`) have .one and .other instead.
        val rustKeys = coop.logbook.ffi.screenMessageKeys()
        assertTrue(rustKeys.size > 40, "only ${rustKeys.size} keys from the screen models")
        for (lang in Strings.LANGUAGES) {
            val table = Strings.table(lang)
            val missing = rustKeys.filter { k -> k !in table && ("$k.one" !in table || "$k.other" !in table) }
            assertTrue(missing.isEmpty(), "strings_$lang.properties lacks the screen models' keys: $missing")
        }
    }

    @Test
    fun everyKeyMadeFromAnEnumHasAText() {
        val keys = coop.logbook.core.HourType.entries.map { coop.logbook.ui.kiosk.hourTypeKey(it) } +
            coop.logbook.core.PunchKind.entries.map { coop.logbook.ui.kiosk.actionKey(it) } +
            coop.logbook.ui.worker.WorkerSection.entries.map { it.key } +
            coop.logbook.ui.coordinator.CoordinatorSection.entries.map { it.key } +
            coop.logbook.ffi.DeviceMode.entries.map { "coord.devices.mode.${it.name}" } +
            coop.logbook.ffi.ReportKind.entries.map { "coord.reports.${it.name}" } +
            listOf("correction", "approval", "lock").map { "coord.audit.kind.$it" }
        for (lang in Strings.LANGUAGES) {
            val missing = keys.filter { it !in Strings.table(lang) }
            assertTrue(missing.isEmpty(), "strings_$lang.properties lacks: $missing")
        }
    }

    @Test
    fun theIosStringCatalogHasEveryKeyInBothLanguages() {
        // ios/App/CoopLogbook/Localizable.xcstrings is generated from these files
        // (ios/App/tools/gen-strings.py); a key added here must be regenerated there.
        val catalog = java.io.File(System.getProperty("logbook.repo.root", ".."), "ios/App/CoopLogbook/Localizable.xcstrings")
        assertTrue(catalog.isFile, "$catalog is missing")
        val text = catalog.readText()
        val missing = Strings.table("en").keys.filter { "\"$it\": {" !in text }
        assertTrue(missing.isEmpty(), "Localizable.xcstrings lacks (run ios/App/tools/gen-strings.py): $missing")
        for ((key, value) in Strings.table("it")) {
            val escaped = value.replace("\\", "\\\\").replace("\"", "\\\"")
            assertTrue("\"value\" : \"$escaped\"" in text || "\"value\": \"$escaped\"" in text, "the catalog's Italian for $key is stale")
        }
    }

    @Test
    fun aMissingKeyFailsInTests() {
        // surefire sets -Dlogbook.strings.strict=true, so a screen using an unknown key fails.
        assertFailsWith<MissingStringException> { Strings.of("en")["no.such.key"] }
    }
}
