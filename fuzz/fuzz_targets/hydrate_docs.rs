//! Documents from the relay as the core takes them in: bytes loaded as automerge
//! (`Automerge::load`, `load_incremental`, and `documents::load`, the path pulled chunks
//! take), then hydrated as every document kind by `quarantine::check_shape`. Never panics.
//!
//! The first byte picks a mode and a kind. Even: the rest is raw automerge bytes (seeds
//! are saved documents; most mutations break their checksums, so this mostly exercises
//! the loader). Odd: the rest is a small program of edits applied to the kind's genesis
//! (puts, nested objects, list inserts, deletes, with the shapes' field names), so every
//! wrong shape a hostile device could write reaches the hydration; the result is also
//! saved and reloaded.
#![no_main]

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use libfuzzer_sys::fuzz_target;
use logbook_core::store::documents::{self, DocKind};
use logbook_core::store::quarantine::check_shape;

const KINDS: [DocKind; 8] = [
    DocKind::Directory,
    DocKind::Roster,
    DocKind::Profile,
    DocKind::Punches,
    DocKind::Review,
    DocKind::Training,
    DocKind::Cpo,
    DocKind::Notes,
];

/// Field names of the document shapes (core/src/*/doc.rs), so edits hit real fields.
const FIELDS: &[&str] = &[
    "active",
    "at",
    "author",
    "before",
    "break_seconds",
    "by",
    "certificate_ref",
    "coop_name",
    "course_id",
    "course_name",
    "courses",
    "created_at",
    "date",
    "deadline",
    "device",
    "disadvantaged",
    "disadvantaged_min_percent",
    "edited_at",
    "end",
    "entries",
    "events",
    "expires_on",
    "hour_type",
    "hours_ordered",
    "induction",
    "kind",
    "label",
    "members",
    "minutes",
    "name",
    "other_activity_cap_minutes",
    "people",
    "pin",
    "pin_lockout_seconds",
    "pin_max_failures",
    "provider",
    "punches",
    "reason",
    "records",
    "review_after_seconds",
    "review_months",
    "roles",
    "shift_id",
    "site",
    "sites",
    "source",
    "start",
    "start_date",
    "supervisor",
    "supervisor_signed_at",
    "text",
    "timezone",
    "trainee_signed_at",
    "void",
    "week_start",
    "p-1",
    "s-1",
    "x",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(mode / 2) % KINDS.len()];
    if mode % 2 == 0 {
        raw(kind, rest);
    } else {
        program(kind, rest);
    }
});

fn hydrate_all(doc: &Automerge) -> [bool; 8] {
    KINDS.map(|k| check_shape(k, doc).is_ok())
}

fn raw(kind: DocKind, bytes: &[u8]) {
    if let Ok(doc) = Automerge::load(bytes) {
        hydrate_all(&doc);
    }
    let mut doc = Automerge::new();
    if doc.load_incremental(bytes).is_ok() {
        hydrate_all(&doc);
    }
    if let Ok(doc) = documents::load(kind, &[bytes.to_vec()]) {
        let _ = check_shape(kind, &doc);
    }
}

/// Reads the program's bytes.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn i64(&mut self) -> Option<i64> {
        let mut buf = [0u8; 8];
        for b in &mut buf {
            *b = self.byte()?;
        }
        Some(i64::from_le_bytes(buf))
    }
    fn text(&mut self) -> Option<String> {
        let b = self.byte()?;
        if b < 0xc0 {
            return Some(FIELDS[usize::from(b) % FIELDS.len()].to_string());
        }
        let len = usize::from(b & 0x0f);
        let mut s = String::new();
        for _ in 0..len {
            s.push(char::from(self.byte()?));
        }
        Some(s)
    }
    fn scalar(&mut self) -> Option<ScalarValue> {
        Some(match self.byte()? % 9 {
            0 => ScalarValue::Int(self.i64()?),
            1 => ScalarValue::Uint(self.i64()? as u64),
            2 => ScalarValue::F64(f64::from_bits(self.i64()? as u64)),
            3 => ScalarValue::Str(self.text()?.into()),
            4 => ScalarValue::Boolean(self.byte()? % 2 == 0),
            5 => ScalarValue::Null,
            6 => ScalarValue::Bytes(self.text()?.into_bytes()),
            7 => ScalarValue::Timestamp(self.i64()?),
            _ => ScalarValue::counter(i64::from(self.byte()? as i8)),
        })
    }
    fn obj_type(&mut self) -> Option<ObjType> {
        Some(match self.byte()? % 4 {
            0 | 1 => ObjType::Map,
            2 => ObjType::List,
            _ => ObjType::Text,
        })
    }
}

fn program(kind: DocKind, bytes: &[u8]) {
    let Ok(mut doc) = documents::genesis(kind) else {
        return;
    };
    doc.set_actor(ActorId::from([1u8; 16]));
    let mut objs: Vec<ObjId> = vec![ROOT];
    for name in FIELDS {
        if let Ok(Some((automerge::Value::Object(_), id))) = doc.get(ROOT, *name) {
            objs.push(id);
        }
    }
    let mut input = Input(bytes);
    let mut tx = doc.transaction();
    for _ in 0..64 {
        let Some(op) = input.byte() else { break };
        let Some(i) = input.byte() else { break };
        let obj = objs[usize::from(i) % objs.len()].clone();
        let is_seq = matches!(tx.object_type(&obj), Ok(ObjType::List | ObjType::Text));
        let index = |n: u8, tx: &automerge::transaction::Transaction<'_>| {
            let len = tx.length(&obj);
            usize::from(n) % (len + 1)
        };
        let step = (|| -> Option<()> {
            match op % 5 {
                0 if is_seq => {
                    let at = index(input.byte()?, &tx);
                    let v = input.scalar()?;
                    let _ = tx.insert(&obj, at, v);
                }
                0 => {
                    let key = input.text()?;
                    let v = input.scalar()?;
                    let _ = tx.put(&obj, key, v);
                }
                1 if is_seq => {
                    let at = index(input.byte()?, &tx);
                    let t = input.obj_type()?;
                    if let Ok(id) = tx.insert_object(&obj, at, t) {
                        objs.push(id);
                    }
                }
                1 => {
                    let key = input.text()?;
                    let t = input.obj_type()?;
                    if let Ok(id) = tx.put_object(&obj, key, t) {
                        objs.push(id);
                    }
                }
                2 if is_seq => {
                    let at = index(input.byte()?, &tx);
                    let _ = tx.delete(&obj, at);
                }
                2 => {
                    let key = input.text()?;
                    let _ = tx.delete(&obj, key);
                }
                3 => {
                    let key = input.text()?;
                    // Small steps: a counter summing past i64::MAX panics inside automerge
                    // when overflow checks are on (docs/SECURITY.md, "Fuzzing").
                    let n = i64::from(input.byte()? as i8);
                    let _ = tx.increment(&obj, key, n);
                }
                _ => {
                    let at = index(input.byte()?, &tx);
                    let s = input.text()?;
                    let _ = tx.splice_text(&obj, at, 0, &s);
                }
            }
            Some(())
        })();
        if step.is_none() {
            break;
        }
    }
    tx.commit();
    let direct = hydrate_all(&doc);
    let saved = doc.save();
    let loaded = Automerge::load(&saved).expect("a saved document loads");
    assert_eq!(
        hydrate_all(&loaded),
        direct,
        "hydration survives save and load"
    );
}
