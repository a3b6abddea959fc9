#!/usr/bin/env python3
"""Write ios/App/CoopLogbook/Localizable.xcstrings (an Xcode String Catalog, English and
Italian) from the strings files the Compose apps use:
android/logbook-compose/src/main/resources/coop/logbook/ui/strings_{en,it}.properties.
One source for every platform's words; the keys and {placeholders} are the same, and the
Swift side fills the placeholders itself (Strings.swift).

    ios/App/tools/gen-strings.py          rewrite the catalog
    ios/App/tools/gen-strings.py --check  exit 1 if the catalog is out of date
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PROPS = os.path.join(ROOT, "android/logbook-compose/src/main/resources/coop/logbook/ui/strings_{}.properties")
OUT = os.path.join(ROOT, "ios/App/CoopLogbook/Localizable.xcstrings")
LANGS = ["en", "it"]


def read(lang):
    table = {}
    with open(PROPS.format(lang), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            table[key.strip()] = value.strip()
    return table


def catalog():
    tables = {lang: read(lang) for lang in LANGS}
    strings = {}
    for key in sorted(tables["en"]):
        strings[key] = {
            "extractionState": "manual",
            "localizations": {
                lang: {"stringUnit": {"state": "translated", "value": tables[lang].get(key, tables["en"][key])}}
                for lang in LANGS
            },
        }
    return json.dumps({"sourceLanguage": "en", "strings": strings, "version": "1.0"}, ensure_ascii=False, indent=2) + "\n"


def main():
    text = catalog()
    if "--check" in sys.argv:
        current = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else ""
        if current != text:
            print("ios/App/CoopLogbook/Localizable.xcstrings is out of date: run ios/App/tools/gen-strings.py")
            sys.exit(1)
        print("Localizable.xcstrings is up to date")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}")


main()
