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
    fun aMissingKeyFailsInTests() {
        // surefire sets -Dlogbook.strings.strict=true, so a screen using an unknown key fails.
        assertFailsWith<MissingStringException> { Strings.of("en")["no.such.key"] }
    }
}
