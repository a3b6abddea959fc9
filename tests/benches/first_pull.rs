//! A new coordinator device's first sync of five years of a 40-person coop, with
//! end-to-end sealing on and the store encrypted at rest (docs/PERFORMANCE.md,
//! "End-to-end encryption"):
//!
//! `cargo bench -p logbook-e2e --bench first_pull`
//!
//! The office laptop writes five years of weekday shifts for 40 people (one punch document
//! per person and month, imported) and 50 training records each, then pushes it all,
//! sealed. (Note threads are left out: a coordinator pulls a person's notes only with
//! their consent, which the core bench's five-year store does not model.) A second coordinator
//! device joins with an invite and syncs until it has everything; the bench prints the
//! documents, blobs and bytes it pulled, the time of each phase, and checks it reads the
//! same hours as the first laptop.

use std::time::Instant;

use logbook_e2e::logbook_core::{HourType, NewTraining, Punch, PunchKind, PunchSource};
use logbook_e2e::{Coop, coordinator_grant};

const PEOPLE: usize = 40;
const TRAINING_EACH: usize = 50;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // No rate limits: the bench measures the work, not the relay's politeness.
    let coop = Coop::start_configured(0, 0, |c| {
        c.limits.push_per_minute = 0;
        c.limits.pull_per_minute = 0;
    })
    .await;
    let office = &coop.coordinator;
    let t = Instant::now();
    let people: Vec<String> = (0..PEOPLE)
        .map(|i| {
            office
                .directory()
                .add_person(
                    &format!("Worker {i}"),
                    &[],
                    std::slice::from_ref(&coop.site),
                    i % 3 == 0,
                )
                .expect("person")
        })
        .collect();
    // 2021-11-01 .. 2026-10-31, every weekday, one shift a day each.
    let first = 1_635_724_800i64;
    let days = 5 * 365;
    let mut punches = 0usize;
    for (pi, p) in people.iter().enumerate() {
        let mut batch = Vec::new();
        for d in 0..days {
            if d % 7 >= 5 {
                continue;
            }
            let at = first + d as i64 * 86_400 + 8 * 3600 + (pi as i64 * 60);
            for (k, kind, off) in [
                (0, PunchKind::ClockIn, 0),
                (1, PunchKind::ClockOut, 8 * 3600 - 7),
            ] {
                batch.push(Punch {
                    id: format!("u-{pi:02}-{d:04}-{k}"),
                    person_id: p.clone(),
                    kind,
                    at: at + off,
                    device: "bench".into(),
                    source: PunchSource::Coordinator,
                    hour_type: HourType::ALL[pi % 5],
                    site_id: None,
                });
            }
        }
        punches += batch.len();
        office.timesheets().import_punches(&batch).expect("import");
    }
    for (pi, p) in people.iter().enumerate() {
        for i in 0..TRAINING_EACH {
            office
                .training()
                .add_training(NewTraining {
                    person_id: p.clone(),
                    course: format!("Course {}", i % 7),
                    date: format!(
                        "{}-{:02}-{:02}",
                        2022 + (i % 4),
                        1 + (i % 12),
                        1 + (pi % 28)
                    ),
                    minutes: 180,
                    certificate_ref: Some(format!("CERT-{pi}-{i}")),
                    ..Default::default()
                })
                .expect("training");
        }
    }
    println!(
        "five years of {PEOPLE} people on the office laptop: {punches} punches, {} training records, written in {:.1} s",
        PEOPLE * TRAINING_EACH,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut pushed = 0u32;
    for _ in 0..20 {
        let s = office.sync().run().await.expect("office sync");
        pushed += s.pushed_blobs;
        if s.pushed_blobs == 0 {
            break;
        }
    }
    println!(
        "  office laptop pushes it sealed: {pushed} blobs in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let relay_bytes: u64 = std::fs::read_dir(&coop.relay_dir)
        .expect("relay dir")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "  relay data: {:.1} MiB",
        relay_bytes as f64 / 1024.0 / 1024.0
    );

    // The new laptop: invite, join (opens its key envelope, first sync), then syncs until
    // nothing more arrives and nothing is held for a key.
    let t = Instant::now();
    let laptop = coop.join_device(&coordinator_grant(), "new laptop").await;
    let joined = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut rounds = 0;
    let mut pulled = 0u32;
    loop {
        rounds += 1;
        let s = laptop.sync().run().await.expect("new laptop sync");
        pulled += s.pulled_blobs;
        assert_eq!(s.dropped_blobs, 0, "nothing dropped: {s:?}");
        if (s.pulled_blobs == 0 && s.held_blobs == 0) || rounds >= 20 {
            break;
        }
    }
    let more = t2.elapsed().as_secs_f64();
    let docs = laptop.export_chunks().expect("chunks");
    let doc_count = docs
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let bytes: usize = docs.iter().map(|(_, b)| b.len()).sum();
    println!(
        "  new coordinator laptop: join + first sync {joined:.1} s, then {rounds} more sync(s) {more:.1} s (pulled {pulled} blobs after the join)"
    );
    println!(
        "  it holds {doc_count} documents, {:.1} MiB of automerge chunks; total {:.1} s",
        bytes as f64 / 1024.0 / 1024.0,
        joined + more
    );
    // It reads what the office laptop reads.
    let month = |b: &logbook_e2e::logbook_core::Logbook| {
        let rows = b
            .reports()
            .hours("2026-03-01", "2026-03-31")
            .expect("hours");
        assert!(!rows.is_empty());
        format!("{rows:?}")
    };
    assert_eq!(month(&laptop), month(office), "same hours report");
    coop.shutdown().await;
}
