//! Any split of the same events across up to five replicas, merged in any order, gives
//! identical documents, shifts and reports on every replica.

use std::collections::BTreeMap;

use logbook_core::{HourType, Logbook, Punch, PunchKind, PunchSource};
use proptest::prelude::*;

const KINDS: [PunchKind; 4] = [
    PunchKind::ClockIn,
    PunchKind::ClockOut,
    PunchKind::BreakStart,
    PunchKind::BreakEnd,
];

#[derive(Debug, Clone)]
struct Event {
    replica: usize,
    person: usize,
    kind: usize,
    /// Minutes after Monday 2026-11-16 00:00 UTC; small range so taps collide often.
    minute: i64,
    hour_type: usize,
}

fn event(replicas: usize) -> impl Strategy<Value = Event> {
    (
        0..replicas,
        0..3usize,
        0..4usize,
        0..(3 * 24 * 60i64),
        0..5usize,
    )
        .prop_map(|(replica, person, kind, minute, hour_type)| Event {
            replica,
            person,
            kind,
            minute,
            hour_type,
        })
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Event>, Vec<(usize, usize)>)> {
    (1..=5usize).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(event(n), 0..40),
            // Gossip: (from, to) pairs applied in this order, then a final full exchange.
            prop::collection::vec((0..n, 0..n), 0..12),
        )
    })
}

/// Every document rebuilt from its chunks, as (doc id -> sorted heads).
fn documents(book: &Logbook) -> BTreeMap<String, Vec<String>> {
    let mut by_doc: BTreeMap<String, automerge::Automerge> = BTreeMap::new();
    for (doc, bytes) in book.export_chunks().expect("chunks") {
        let d = by_doc.entry(doc).or_default();
        d.load_incremental(&bytes).expect("load");
    }
    by_doc
        .into_iter()
        .map(|(id, d)| {
            let mut heads: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            (id, heads)
        })
        .collect()
}

fn gossip(from: &Logbook, to: &Logbook) {
    to.merge_chunks(&from.export_chunks().expect("export"))
        .expect("merge");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_split_and_merge_order((n, events, order) in scenario()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let replicas: Vec<Logbook> = (0..n)
            .map(|i| Logbook::open(dir.path().join(format!("r{i}")), &logbook_core::StoreKey::insecure_test_key()).expect("open"))
            .collect();
        replicas[0].directory().init("Converge Co-op", "Europe/London").expect("init");
        let people: Vec<String> = ["A", "B", "C"]
            .iter()
            .map(|name| replicas[0].directory().add_person(name, &[], &[], false).expect("person"))
            .collect();
        for r in &replicas[1..] {
            gossip(&replicas[0], r);
        }
        let monday = 1_794_787_200i64; // 2026-11-16T00:00:00Z
        let mut per_replica: Vec<Vec<Punch>> = vec![Vec::new(); n];
        for (i, e) in events.iter().enumerate() {
            per_replica[e.replica].push(Punch {
                id: format!("u-{i:04}"),
                person_id: people[e.person].clone(),
                kind: KINDS[e.kind],
                at: monday + e.minute * 60,
                device: format!("r{}", e.replica),
                source: if e.replica == 0 { PunchSource::Kiosk } else { PunchSource::Phone },
                hour_type: HourType::ALL[e.hour_type],
                site_id: None,
            });
        }
        for (r, punches) in replicas.iter().zip(&per_replica) {
            if !punches.is_empty() {
                r.timesheets().import_punches(punches).expect("import");
            }
        }
        for (from, to) in order {
            gossip(&replicas[from], &replicas[to]);
        }
        for to in 0..n {
            for from in 0..n {
                gossip(&replicas[from], &replicas[to]);
            }
        }
        let reference = &replicas[0];
        let docs0 = documents(reference);
        let report0 = reference.reports().hours("2026-11-01", "2026-11-30").expect("report");
        let shifts0: Vec<_> = people.iter().map(|p| reference.timesheets().shifts(p, None, None).expect("shifts")).collect();
        let ignored0: Vec<_> = people.iter().map(|p| reference.timesheets().ignored_punches(p).expect("ignored")).collect();
        // The duplicates and shifts are exactly what the pure derivation says of all events.
        let all: usize = shifts0.iter().map(Vec::len).sum::<usize>() + ignored0.iter().map(Vec::len).sum::<usize>();
        let clock_ins = events.iter().filter(|e| e.kind == 0).count();
        prop_assert!(all <= events.len() && shifts0.iter().map(Vec::len).sum::<usize>() <= clock_ins);
        for r in &replicas[1..] {
            prop_assert_eq!(&documents(r), &docs0);
            prop_assert_eq!(&r.reports().hours("2026-11-01", "2026-11-30").expect("report"), &report0);
            for (i, p) in people.iter().enumerate() {
                prop_assert_eq!(&r.timesheets().shifts(p, None, None).expect("shifts"), &shifts0[i]);
                prop_assert_eq!(&r.timesheets().ignored_punches(p).expect("ignored"), &ignored0[i]);
            }
            // A rebuild from the documents agrees with the incrementally kept cache.
            r.rebuild().expect("rebuild");
            prop_assert_eq!(&r.reports().hours("2026-11-01", "2026-11-30").expect("report"), &report0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Taps through `punch` re-derive only the shifts they can change; that shortcut must
    /// agree with deriving everything again, whatever order (backdated or not) taps come in.
    #[test]
    fn incremental_derivation_matches_a_full_rebuild(taps in prop::collection::vec((0..4usize, 0..(2 * 24 * 60i64)), 0..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let book = Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key()).expect("open");
        book.directory().init("Incremental Co-op", "Europe/London").expect("init");
        let person = book.directory().add_person("A", &[], &[], false).expect("person");
        let monday = 1_794_787_200i64;
        for (kind, minute) in taps {
            // Refused taps (the device knows they are wrong) are part of the behaviour.
            let _ = book.timesheets().punch(&person, KINDS[kind], Some(monday + minute * 60), None, None, PunchSource::Phone);
        }
        let before = (book.timesheets().shifts(&person, None, None).expect("shifts"), book.timesheets().ignored_punches(&person).expect("ignored"));
        book.rebuild().expect("rebuild");
        let after = (book.timesheets().shifts(&person, None, None).expect("shifts"), book.timesheets().ignored_punches(&person).expect("ignored"));
        prop_assert_eq!(before, after);
    }
}

/// Device time has one-second resolution; taps within one second keep their order.
#[test]
fn a_clock_in_and_out_in_the_same_second_make_a_shift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book =
        Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key()).expect("open");
    book.directory()
        .init("Quick Co-op", "Europe/London")
        .expect("init");
    let person = book
        .directory()
        .add_person("A", &[], &[], false)
        .expect("person");
    let at = Some(1_794_819_600);
    for _ in 0..20 {
        book.timesheets()
            .punch(
                &person,
                PunchKind::ClockIn,
                at,
                None,
                None,
                PunchSource::Phone,
            )
            .expect("in");
        book.timesheets()
            .punch(
                &person,
                PunchKind::ClockOut,
                at,
                None,
                None,
                PunchSource::Phone,
            )
            .expect("out");
    }
    let shifts = book
        .timesheets()
        .shifts(&person, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 20);
    assert!(
        book.timesheets()
            .ignored_punches(&person)
            .expect("ignored")
            .is_empty()
    );
}
