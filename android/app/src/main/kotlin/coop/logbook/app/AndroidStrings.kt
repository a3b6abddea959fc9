// The screens' words from the app's Android string resources (res/values/strings.xml and
// res/values-it/strings.xml, generated from the shared strings files by
// android/app/tools/gen-strings.py), so Android picks the language as it does for any app
// (the system language, per-app language settings) and translators work on ordinary
// resources. Plurals come back as the `KEY.one` / `KEY.other` pair the shared Strings use.
package coop.logbook.app

import android.content.Context
import coop.logbook.ui.Strings

object AndroidStrings {
    fun of(context: Context): Strings {
        val res = context.resources
        val table = HashMap<String, String>(StringResources.strings.size + 2 * StringResources.plurals.size)
        for ((key, id) in StringResources.strings) table[key] = res.getString(id)
        for ((key, id) in StringResources.plurals) {
            // English and Italian: 1 is "one", 2 is "other".
            table["$key.one"] = res.getQuantityText(id, 1).toString()
            table["$key.other"] = res.getQuantityText(id, 2).toString()
        }
        val language = res.configuration.locales[0].language
        return Strings.fromTable(language, table)
    }
}
