//! Every message key the screen models produce has text in every language the front ends
//! ship (android/logbook-compose `strings_<lang>.properties`), and each text's
//! `{placeholders}` are arguments the Rust code gives that key.
//!
//! The arguments of a key are the ones its doc comment in src/message.rs names (`{name}`),
//! plus `count` for a key marked *Plural* (whose texts are `KEY.one` / `KEY.other`). A
//! second test reads the screens' sources and checks that every `Message::new(keys::X)` /
//! `Message::count(keys::X, …)` passes only documented arguments, so the docs cannot drift
//! from what the screens build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use logbook_screens::keys;

/// The languages the front ends ship (coop.logbook.ui.Strings.LANGUAGES).
const LANGUAGES: &[&str] = &["en", "it"];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn strings_path(lang: &str) -> PathBuf {
    manifest_dir().join(format!(
        "../android/logbook-compose/src/main/resources/coop/logbook/ui/strings_{lang}.properties"
    ))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A `.properties` file as the front ends read it (java.util.Properties over UTF-8), for
/// the subset the strings files use: `key = value` lines, `#`/`!` comments, no line
/// continuations (refused, so this reader never silently misreads one).
fn properties(path: &Path) -> BTreeMap<String, String> {
    let mut table = BTreeMap::new();
    for (n, line) in read(path).lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        assert!(
            !line.ends_with('\\'),
            "{}:{}: line continuations are not supported here",
            path.display(),
            n + 1
        );
        let end = line
            .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
            .unwrap_or(line.len());
        let key = &line[..end];
        let rest = line[end..].trim_start();
        let rest = rest
            .strip_prefix('=')
            .or_else(|| rest.strip_prefix(':'))
            .unwrap_or(rest);
        let value = rest.trim_start().to_string();
        let before = table.insert(key.to_string(), value);
        assert!(
            before.is_none(),
            "{}:{}: '{key}' is given twice (the last one would win silently)",
            path.display(),
            n + 1
        );
    }
    table
}

/// The `{name}`s in a text, with the pattern Strings.kt and StringsTest use (`{[a-zA-Z]+}`).
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        if name_len > 0 && rest[name_len..].starts_with('}') {
            found.insert(rest[..name_len].to_string());
        }
    }
    found
}

/// What src/message.rs documents for one key.
#[derive(Debug)]
struct Documented {
    plural: bool,
    /// Argument names, `count` included for a plural.
    args: BTreeSet<String>,
}

/// `pub const NAME: &str = "key";` in `mod keys`, each with its doc comment: constant name
/// → (key, what the doc says).
fn documented_keys() -> BTreeMap<String, (String, Documented)> {
    let source = read(&manifest_dir().join("src/message.rs"));
    let mut out = BTreeMap::new();
    let mut doc = String::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push_str(text);
            doc.push('\n');
            continue;
        }
        if let Some(decl) = line.strip_prefix("pub const ")
            && let Some((name, value)) = decl.split_once(": &str = ")
        {
            let key = value.trim_end_matches(';').trim_matches('"').to_string();
            let plural = doc.contains("*Plural*");
            let mut args = placeholders(&doc);
            if plural {
                args.insert("count".to_string());
            }
            out.insert(name.to_string(), (key, Documented { plural, args }));
        }
        doc.clear();
    }
    out
}

/// The documentation of every key in `keys::ALL`, by key.
fn documented_all() -> BTreeMap<&'static str, Documented> {
    let mut by_key: BTreeMap<String, Documented> = documented_keys().into_values().collect();
    keys::ALL
        .iter()
        .map(|k| {
            let doc = by_key
                .remove(*k)
                .unwrap_or_else(|| panic!("'{k}' is in keys::ALL but src/message.rs has no `pub const … = \"{k}\";` for it"));
            (*k, doc)
        })
        .collect()
}

#[test]
fn every_key_has_text_in_every_language_with_the_arguments_the_screens_give_it() {
    let documented = documented_all();
    assert!(documented.len() > 50, "src/message.rs could not be read");
    let tables: Vec<(&str, BTreeMap<String, String>)> = LANGUAGES
        .iter()
        .map(|lang| (*lang, properties(&strings_path(lang))))
        .collect();
    let mut problems = Vec::new();
    for (key, doc) in &documented {
        let text_keys = if doc.plural {
            vec![format!("{key}.one"), format!("{key}.other")]
        } else {
            vec![key.to_string()]
        };
        for text_key in &text_keys {
            let mut sets = Vec::new();
            for (lang, table) in &tables {
                let Some(text) = table.get(text_key).filter(|t| !t.trim().is_empty()) else {
                    problems.push(format!("{lang}: no text for '{text_key}'"));
                    continue;
                };
                let used = placeholders(text);
                for p in used.difference(&doc.args) {
                    problems.push(format!(
                        "{lang}: '{text_key}' uses {{{p}}}, but the screens give '{key}' only {:?}",
                        doc.args
                    ));
                }
                // Every value the screens give must show, except the count of a `.one`
                // text (which says "1" in words or digits).
                for a in &doc.args {
                    let optional = a == "count" && text_key.ends_with(".one");
                    if !optional && !used.contains(a) {
                        problems.push(format!("{lang}: '{text_key}' does not show {{{a}}}"));
                    }
                }
                sets.push((lang, used));
            }
            if let Some(((first_lang, first), rest)) = sets.split_first() {
                for (lang, used) in rest {
                    if used != first {
                        problems.push(format!(
                            "'{text_key}': {first_lang} has placeholders {first:?}, {lang} has {used:?}"
                        ));
                    }
                }
            }
        }
        // A plural's texts are only ever looked up as `.one` / `.other`.
        for (lang, table) in &tables {
            if doc.plural && table.contains_key(*key) {
                problems.push(format!(
                    "{lang}: '{key}' is a plural, its text belongs in '{key}.one' / '{key}.other'"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "strings files out of step with screens/src/message.rs:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_languages_have_the_same_keys() {
    // desktop StringsTest checks the same; failing here too keeps a Rust-only change honest.
    let mut tables = LANGUAGES.iter().map(|l| (*l, properties(&strings_path(l))));
    let (first_lang, first) = tables.next().expect("a language");
    for (lang, table) in tables {
        let a: BTreeSet<_> = first.keys().collect();
        let b: BTreeSet<_> = table.keys().collect();
        assert_eq!(
            a.symmetric_difference(&b).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "keys in only one of strings_{first_lang} and strings_{lang}"
        );
    }
}

/// `Message::new(keys::X)` and `Message::count(keys::X, …)` with their `.arg("name", …)`
/// chain, in the screens' sources: (file, constant name, plural?, argument names).
fn direct_constructions() -> Vec<(String, String, bool, Vec<String>)> {
    let mut found = Vec::new();
    let src = manifest_dir().join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("screens/src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = read(&file);
        // Spaces and line breaks removed, so a chain split over lines reads as one.
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut starts: Vec<(usize, bool)> = Vec::new();
        for (pattern, plural) in [
            ("Message::new(keys::", false),
            ("Message::count(keys::", true),
        ] {
            starts.extend(
                text.match_indices(pattern)
                    .map(|(i, _)| (i + pattern.len(), plural)),
            );
        }
        for (start, ctor) in starts {
            let rest = &text[start..];
            let name_len = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(rest.len());
            let name = rest[..name_len].to_string();
            // Skip to the constructor's closing parenthesis, then read `.arg("…"` links.
            let mut depth = 1;
            let mut i = name_len;
            for (j, c) in rest[name_len..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    i = name_len + j + 1;
                    break;
                }
            }
            let mut args = Vec::new();
            let mut chain = &rest[i..];
            while let Some(after) = chain.strip_prefix(".arg(\"") {
                let end = after.find('"').expect("closing quote");
                args.push(after[..end].to_string());
                chain = &after[end..];
                // On to the end of this `.arg(…)`.
                let mut depth = 1;
                let mut k = chain.len();
                for (j, c) in chain.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        k = j + 1;
                        break;
                    }
                }
                chain = &chain[k..];
            }
            let file = file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((file, name, ctor, args));
        }
    }
    found
}

#[test]
fn the_screens_give_each_key_only_its_documented_arguments() {
    let documented = documented_keys();
    let built = direct_constructions();
    assert!(
        built.len() > 20,
        "found only {} Message::new(keys::…) in screens/src",
        built.len()
    );
    let mut problems = Vec::new();
    for (file, name, plural, args) in built {
        let Some((key, doc)) = documented.get(&name) else {
            problems.push(format!("{file}: keys::{name} is not a documented key"));
            continue;
        };
        if plural != doc.plural {
            problems.push(format!(
                "{file}: '{key}' is built with Message::{}, but its doc {} *Plural*",
                if plural { "count" } else { "new" },
                if doc.plural { "says" } else { "does not say" }
            ));
        }
        for a in args {
            if !doc.args.contains(&a) {
                problems.push(format!(
                    "{file}: '{key}' is given `{a}`, which its doc in src/message.rs does not name"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_placeholder_reader_reads_what_strings_kt_replaces() {
    let p = placeholders("{name}, wait {count} minutes {not-one} {} {x");
    assert_eq!(p, ["count", "name"].iter().map(|s| s.to_string()).collect());
}
