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

    /** A string resource's text as Android reads it (the escapes gen-strings.py writes). */
    private fun androidText(raw: String): String {
        val out = StringBuilder()
        var i = 0
        while (i < raw.length) {
            val c = raw[i]
            if (c == '\\' && i + 1 < raw.length) {
                out.append(raw[i + 1])
                i += 2
            } else {
                out.append(c)
                i++
            }
        }
        return out.toString()
    }

    @Test
    fun theAndroidStringResourcesSayWhatTheSharedStringsFilesSay() {
        // android/app/src/main/res/values*/strings.xml are generated from the same files
        // (android/app/tools/gen-strings.py); a key added or a text changed there without
        // regenerating fails here. Read as Android reads them: XML, then its escapes.
        val root = java.io.File(System.getProperty("logbook.repo.root", ".."))
        val rerun = "run android/app/tools/gen-strings.py"
        for ((lang, folder) in listOf("en" to "values", "it" to "values-it")) {
            val file = java.io.File(root, "android/app/src/main/res/$folder/strings.xml")
            assertTrue(file.isFile, "$file is missing")
            val doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file)
            val fromXml = sortedMapOf<String, String>()
            val strings = doc.getElementsByTagName("string")
            for (i in 0 until strings.length) {
                val e = strings.item(i) as org.w3c.dom.Element
                if (e.getAttribute("name") != "app_name") fromXml[e.getAttribute("name").replace('_', '.')] = androidText(e.textContent)
            }
            val plurals = doc.getElementsByTagName("plurals")
            for (i in 0 until plurals.length) {
                val p = plurals.item(i) as org.w3c.dom.Element
                val items = p.getElementsByTagName("item")
                for (j in 0 until items.length) {
                    val item = items.item(j) as org.w3c.dom.Element
                    fromXml[p.getAttribute("name").replace('_', '.') + "." + item.getAttribute("quantity")] = androidText(item.textContent)
                }
            }
            val shared = Strings.table(lang).toSortedMap()
            assertEquals(shared.keys, fromXml.keys, "$folder/strings.xml has other keys than strings_$lang.properties: $rerun")
            for ((key, text) in shared) assertEquals(text, fromXml[key], "$folder/strings.xml: '$key' differs: $rerun")
        }
        // The app looks each key up through StringResources.kt: it must list every one.
        val kt = java.io.File(root, "android/app/src/main/kotlin/coop/logbook/app/StringResources.kt").readText()
        val listed = Regex("\"([A-Za-z0-9.]+)\" to R\\.(string|plurals)\\.").findAll(kt)
            .flatMap { m -> if (m.groupValues[2] == "plurals") listOf("${m.groupValues[1]}.one", "${m.groupValues[1]}.other") else listOf(m.groupValues[1]) }
            .toSortedSet()
        assertEquals(Strings.table("en").keys.toSortedSet(), listed, "StringResources.kt: $rerun")
    }

    @Test
    fun aMissingKeyFailsInTests() {
        // surefire sets -Dlogbook.strings.strict=true, so a screen using an unknown key fails.
        assertFailsWith<MissingStringException> { Strings.of("en")["no.such.key"] }
    }
}
