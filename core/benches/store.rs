//! Core benchmarks (a bench binary: `cargo bench -p logbook-core --bench store`).
//!
//! 1. Durable clock-in latency (p50/p99), in a store encrypted at rest and in a plain one
//!    (tap by tap, same disk), against a bare fsynced SQLite insert on the same disk.
//! 2. A generated store holding five years of a 40-person coop (~100k punches, 2k
//!    training records, 5k note threads): open time, one month's hours report, full
//!    rebuild of the cached tables, peak memory, size on disk. Measured in a child
//!    process so generation does not count towards its memory.
//! 3. On the same store, the time to make each paper (docs/PERFORMANCE.md, "Papers"):
//!    payroll, training matrix (CSV and PDF), impact summary (JSON and PDF), head-count
//!    return, attendance return, and the retention plan.
//!
//! `-- --clock-in-only` runs the first part alone. Set `LOGBOOK_BENCH_DIR` to choose the disk (default: a temporary directory); a
//! five-year store already there is reused instead of generated again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use logbook_core::{HourType, Logbook, NewTraining, Punch, PunchKind, PunchSource, StoreKey};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn bench_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("LOGBOOK_BENCH_DIR") {
        Some(d) => (None, PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A store with 40 people, for the clock-in latency runs.
fn latency_store(home: &Path, key: &StoreKey) -> (Logbook, Vec<String>) {
    let book = Logbook::open(home, key).expect("open");
    book.directory()
        .init("Bench Co-op", "Europe/London")
        .expect("init");
    let people: Vec<String> = (0..40)
        .map(|i| {
            book.directory()
                .add_person(&format!("P{i}"), &[], &[], false)
                .expect("person")
        })
        .collect();
    (book, people)
}

fn clock_in_latency(dir: &Path) {
    // Fresh stores each run, even in a reused bench directory.
    let _ = std::fs::remove_dir_all(dir.join("latency"));
    let _ = std::fs::remove_dir_all(dir.join("latency-plain"));
    for f in ["bare.sqlite3", "bare.sqlite3-wal", "bare.sqlite3-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    // The same taps into a store encrypted at rest (SQLCipher, as every device store is)
    // and into a plain one (as before), alternating tap by tap so both see the same disk.
    let (book, people) = latency_store(&dir.join("latency"), &StoreKey::insecure_test_key());
    let (plain_book, plain_people) = latency_store(
        &dir.join("latency-plain"),
        &StoreKey::plaintext_for_benchmarks(),
    );
    let rounds = 300;
    let mut lat = Vec::with_capacity(rounds);
    let mut plain_lat = Vec::with_capacity(rounds);
    let start = 1_794_787_200i64;
    let tap = |book: &Logbook, p: &str, at: i64| -> f64 {
        let t = Instant::now();
        book.timesheets()
            .punch(
                p,
                PunchKind::ClockIn,
                Some(at),
                Some(HourType::Paid),
                None,
                PunchSource::Phone,
            )
            .expect("clock in");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        book.timesheets()
            .punch(
                p,
                PunchKind::ClockOut,
                Some(at + 1800),
                None,
                None,
                PunchSource::Phone,
            )
            .expect("clock out");
        ms
    };
    for i in 0..rounds {
        let at = start + (i as i64) * 3600;
        if i % 2 == 0 {
            lat.push(tap(&book, &people[i % people.len()], at));
            plain_lat.push(tap(&plain_book, &plain_people[i % people.len()], at));
        } else {
            plain_lat.push(tap(&plain_book, &plain_people[i % people.len()], at));
            lat.push(tap(&book, &people[i % people.len()], at));
        }
    }
    lat.sort_by(f64::total_cmp);
    plain_lat.sort_by(f64::total_cmp);

    // The floor: one fsynced insert of a punch-sized row in WAL mode, same settings.
    let conn = rusqlite::Connection::open(dir.join("bare.sqlite3")).expect("bare");
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB);").expect("bare schema");
    let blob = vec![7u8; 300];
    let mut bare = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        conn.execute("INSERT INTO t (data) VALUES (?1)", [&blob])
            .expect("insert");
        bare.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    bare.sort_by(f64::total_cmp);
    println!("clock-in (durable, fsynced), {rounds} taps over 40 people:");
    println!(
        "  clock-in     p50 {:7.3} ms   p99 {:7.3} ms   (store encrypted at rest)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!(
        "  unencrypted  p50 {:7.3} ms   p99 {:7.3} ms   (same taps, plain SQLite store)",
        percentile(&plain_lat, 0.5),
        percentile(&plain_lat, 0.99)
    );
    println!(
        "  encryption   p50 {:+7.3} ms   p99 {:+7.3} ms",
        percentile(&lat, 0.5) - percentile(&plain_lat, 0.5),
        percentile(&lat, 0.99) - percentile(&plain_lat, 0.99)
    );
    println!(
        "  bare insert  p50 {:7.3} ms   p99 {:7.3} ms",
        percentile(&bare, 0.5),
        percentile(&bare, 0.99)
    );
    println!(
        "  ratio        p50 {:7.2}x     p99 {:7.2}x",
        percentile(&lat, 0.5) / percentile(&bare, 0.5),
        percentile(&lat, 0.99) / percentile(&bare, 0.99)
    );
}

/// Five years of a 40-person coop.
fn generate(home: &Path) -> (u64, u64, u64) {
    let book = Logbook::open(home, &logbook_core::StoreKey::insecure_test_key()).expect("open");
    book.directory()
        .init("Five Year Co-op", "Europe/London")
        .expect("init");
    let site = book.directory().add_site("Café").expect("site");
    let people: Vec<String> = (0..40)
        .map(|i| {
            book.directory()
                .add_person(
                    &format!("Worker {i}"),
                    &[],
                    std::slice::from_ref(&site),
                    i % 3 == 0,
                )
                .expect("person")
        })
        .collect();
    // 2021-11-01 .. 2026-10-31, every weekday, one shift a day each.
    let first = 1_635_724_800i64; // 2021-11-01T00:00:00Z, a Monday
    let days = 5 * 365;
    let mut punches = 0u64;
    for (pi, p) in people.iter().enumerate() {
        let mut batch = Vec::new();
        for d in 0..days {
            if d % 7 >= 5 {
                continue;
            }
            let at = first + d as i64 * 86_400 + 8 * 3600 + (pi as i64 * 60);
            let t = HourType::ALL[pi % 5];
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
                    source: PunchSource::Phone,
                    hour_type: t,
                    site_id: None,
                });
            }
        }
        punches += batch.len() as u64;
        book.timesheets().import_punches(&batch).expect("import");
    }
    let mut training = 0u64;
    for (pi, p) in people.iter().enumerate() {
        for i in 0..50 {
            book.training()
                .add_training(NewTraining {
                    person_id: p.clone(),
                    course: if i % 2 == 0 {
                        "Food hygiene".into()
                    } else {
                        format!("Course {}", i % 7)
                    },
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
            training += 1;
        }
    }
    let mut notes = 0u64;
    for p in &people {
        for i in 0..125 {
            book.notes()
                .add_thread(
                    p,
                    &format!(
                        "Check-in {i}: talked about the week, the bus pass and the next course."
                    ),
                )
                .expect("note");
            notes += 1;
        }
    }
    (punches, training, notes)
}

/// Each paper, timed once after one warm-up run, with the size of what it made.
fn papers(book: &Logbook) {
    fn time<T>(label: &str, f: impl Fn() -> T, size: impl Fn(&T) -> String) {
        f();
        let t = Instant::now();
        let out = f();
        println!(
            "  {label:<34} {:8.2} ms  {}",
            t.elapsed().as_secs_f64() * 1000.0,
            size(&out)
        );
    }
    let r = book.reports();
    let bytes = |b: &Vec<u8>| format!("{} KB", b.len() / 1024);
    let lines = |s: &String| format!("{} lines", s.lines().count());
    println!("  papers:");
    time(
        "payroll CSV, one month",
        || r.payroll_csv("2026-03-01", "2026-03-31").expect("payroll"),
        lines,
    );
    time(
        "payroll CSV, a year",
        || r.payroll_csv("2025-01-01", "2025-12-31").expect("payroll"),
        lines,
    );
    time(
        "training matrix CSV",
        || r.training_matrix_csv(30).expect("matrix"),
        lines,
    );
    time(
        "training matrix PDF",
        || r.training_matrix_pdf(30).expect("matrix"),
        bytes,
    );
    time(
        "impact summary JSON, a year",
        || r.impact_json("2025-01-01", "2025-12-31").expect("impact"),
        |s| format!("{} bytes", s.len()),
    );
    time(
        "impact summary PDF, a year",
        || r.impact_pdf("2025-01-01", "2025-12-31").expect("impact"),
        bytes,
    );
    time(
        "impact summary PDF, five years",
        || r.impact_pdf("2021-11-01", "2026-10-31").expect("impact"),
        bytes,
    );
    time(
        "head-count return (text), 2025",
        || r.headcount_text(2025).expect("headcount"),
        lines,
    );
    time(
        "attendance CSV, one month",
        || r.attendance_csv("2026-03").expect("attendance"),
        lines,
    );
    time(
        "retention plan",
        || book.retention().plan().expect("plan"),
        |p| format!("{} items", p.len()),
    );
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// In a fresh process: open, report, rebuild; print times and peak memory.
fn measure(home: &Path) {
    let t = Instant::now();
    let book = Logbook::open(home, &logbook_core::StoreKey::insecure_test_key()).expect("open");
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let rows = book
        .reports()
        .hours("2026-03-01", "2026-03-31")
        .expect("report");
    let report_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let csv = book
        .reports()
        .hours_csv("2026-03-01", "2026-03-31")
        .expect("csv");
    let csv_ms = t.elapsed().as_secs_f64() * 1000.0;
    papers(&book);
    let t = Instant::now();
    let summary = book.rebuild().expect("rebuild");
    let rebuild_s = t.elapsed().as_secs_f64();
    println!("  open                  {open_ms:8.2} ms (target <= 50 ms)");
    println!(
        "  month hours report    {report_ms:8.2} ms, {} rows (CSV {csv_ms:.2} ms, {} bytes) (target <= 100 ms)",
        rows.len(),
        csv.len()
    );
    println!(
        "  rebuild cache         {rebuild_s:8.2} s from {} documents (target <= 10 s)",
        summary.documents
    );
    println!(
        "  peak memory (VmHWM)   {:8.1} MiB (target <= 200 MiB)",
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[i + 1]));
        return;
    }
    // `cargo test --benches` runs bench binaries with no `--bench`: do nothing then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let (_keep, dir) = bench_dir();
    clock_in_latency(&dir);
    // `-- --clock-in-only`: the tap latency alone (seconds instead of minutes).
    if args.iter().any(|a| a == "--clock-in-only") {
        return;
    }
    let home = dir.join("five-years");
    if home.join("logbook.sqlite3").exists() {
        println!("five-year store: reusing {}", home.display());
    } else {
        let t = Instant::now();
        let (punches, training, notes) = generate(&home);
        println!(
            "five-year store: {punches} punches, {training} training records, {notes} note threads, generated in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // Checkpoint the WAL so the size on disk is the store's own.
    drop(
        logbook_core::open_raw_store(&home, &logbook_core::StoreKey::insecure_test_key())
            .map(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")),
    );
    println!(
        "  size on disk          {:8.1} MiB",
        dir_size(&home) as f64 / 1024.0 / 1024.0
    );
    let exe = std::env::current_exe().expect("exe");
    let status = std::process::Command::new(exe)
        .arg("--measure")
        .arg(&home)
        .status()
        .expect("measure");
    assert!(status.success());
}
