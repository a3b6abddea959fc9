//! Scope and id parsing: `Scope::parse`, `Scope::of_doc`, `validate_entity_id` and core's
//! `DocKind::of` never panic, agree with each other, and a parsed scope's `to_string()`
//! parses back to the same scope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbook_core::store::documents::DocKind;
use logbook_protocol::{MAX_DOC_ID_LEN, MAX_ENTITY_ID_LEN, Scope, validate_entity_id};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    if validate_entity_id(s).is_ok() {
        assert!(!s.is_empty() && s.len() <= MAX_ENTITY_ID_LEN);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
    }
    if let Ok(scope) = Scope::parse(s) {
        let text = scope.to_string();
        assert_eq!(text, s, "a scope prints as it was written");
        assert_eq!(Scope::parse(&text).as_ref(), Ok(&scope), "round trip");
        if let Some(person) = scope.person() {
            assert!(validate_entity_id(person).is_ok());
        }
    }
    let of_doc = Scope::of_doc(s);
    if let Ok(scope) = &of_doc {
        assert!(s.len() <= MAX_DOC_ID_LEN);
        let prefix = format!("{scope}/");
        assert!(s.starts_with(&prefix), "the scope is the first segment");
        assert_eq!(Scope::parse(&scope.to_string()).as_ref(), Ok(scope));
    }
    if DocKind::of(s).is_ok() {
        assert!(of_doc.is_ok(), "a document of a kind has a scope");
    }
});
