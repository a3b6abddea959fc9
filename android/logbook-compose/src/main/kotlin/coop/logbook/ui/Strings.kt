// User-facing text, looked up by key from one UTF-8 .properties file per language
// (resources coop/logbook/ui/strings_<lang>.properties): the one source of every platform's
// words. The Android app's string resources (android/app/tools/gen-strings.py) and the iOS
// String Catalog (ios/App/tools/gen-strings.py) are generated from these files, and the
// Android app reads its resources back into a table here (`fromTable`). Plain Java
// resources rather than Compose Multiplatform resources: those need the Compose Gradle
// plugin to generate their `Res` accessors, and the desktop app is built with Maven. The
// files are read as UTF-8 explicitly, so the same code works on Android (whose
// PropertyResourceBundle reads Latin-1).
package coop.logbook.ui

import androidx.compose.runtime.staticCompositionLocalOf
import coop.logbook.ffi.ScreenMessage
import java.io.InputStreamReader
import java.util.Locale
import java.util.Properties

class Strings private constructor(
    /** The language these strings are in (`en`, `it`). */
    val language: String,
    private val table: Map<String, String>,
    private val fallback: Map<String, String>,
) {
    /** The keys of this language's file. */
    val keys: Set<String> get() = table.keys

    /**
     * The text for [key] with `{placeholder}`s filled from [args]. A key missing here falls
     * back to English, then to the key itself; with `-Dlogbook.strings.strict=true` (the tests)
     * a missing key throws instead.
     */
    operator fun get(key: String, vararg args: Pair<String, Any>): String {
        val template = table[key] ?: run {
            if (STRICT) throw MissingStringException(language, key)
            fallback[key] ?: key
        }
        return args.fold(template) { text, (name, value) -> text.replace("{$name}", value.toString()) }
    }

    /** `KEY.one` for 1, else `KEY.other` (English and Italian need no more), with `{count}`. */
    fun plural(key: String, count: Int, vararg args: Pair<String, Any>): String =
        get(if (count == 1) "$key.one" else "$key.other", "count" to count, *args)

    /**
     * The text of a screen model's message (a key and its values, from Rust): a message with
     * a `count` value is a plural (`KEY.one` / `KEY.other`).
     */
    fun text(message: ScreenMessage): String {
        val args = message.args.map { it.name to (it.value as Any) }.toTypedArray()
        val count = message.args.firstOrNull { it.name == "count" }?.value?.toIntOrNull()
        return if (count != null) get(if (count == 1) "${message.key}.one" else "${message.key}.other", *args)
        else get(message.key, *args)
    }

    companion object {
        /** Every language with a strings file; the first is the fallback. */
        val LANGUAGES = listOf("en", "it")
        private val STRICT = System.getProperty("logbook.strings.strict") == "true"
        private val cache = mutableMapOf<String, Map<String, String>>()

        /** The raw table of [language] (empty if there is no file for it). */
        @Synchronized
        fun table(language: String): Map<String, String> = cache.getOrPut(language) {
            val stream = Strings::class.java.getResourceAsStream("/coop/logbook/ui/strings_$language.properties")
                ?: return@getOrPut emptyMap()
            val props = Properties()
            InputStreamReader(stream, Charsets.UTF_8).use { props.load(it) }
            props.stringPropertyNames().associateWith { props.getProperty(it) }
        }

        /** Strings for [language] (`en`, `it`); unknown languages get English. */
        fun of(language: String): Strings {
            val lang = if (language in LANGUAGES) language else LANGUAGES.first()
            return Strings(lang, table(lang), table(LANGUAGES.first()))
        }

        fun of(locale: Locale): Strings = of(locale.language)

        /**
         * Strings from a table the platform read from its own resources (the Android app's
         * res/values/strings.xml and res/values-it/strings.xml, generated from the files
         * above), in [language] (`en`, `it`); keys it lacks fall back to the English file.
         */
        fun fromTable(language: String, table: Map<String, String>): Strings =
            Strings(if (language in LANGUAGES) language else LANGUAGES.first(), table, table(LANGUAGES.first()))
    }
}

class MissingStringException(language: String, key: String) :
    IllegalStateException("no text for key '$key' in strings_$language.properties")

/** The strings the screens draw with; provide `Strings.of(locale)` at the top of the app. */
val LocalStrings = staticCompositionLocalOf { Strings.of("en") }
