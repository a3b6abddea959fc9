//! What a sync costs on the wire and at the relay (issue 10; docs/PERFORMANCE.md, "Sync
//! cost"). Not run by CI:
//!
//! ```sh
//! cargo build --release -p logbook-relay
//! cargo bench -p logbook-e2e --bench sync_cost                 # N = 200 and 2,000
//! cargo bench -p logbook-e2e --bench sync_cost -- --docs 7500 --import
//! ```
//!
//! The workload of the automerge-repo comparison: N timesheet documents of 20 punches
//! each (one fsynced tap per punch, so 20 automerge changes per document; `--import`
//! writes each document as one change instead, to build large stores quickly), end-to-end
//! encryption on, the relay a child process behind a counting loopback proxy. Steps:
//!
//! 1. upload: the device that tapped them syncs everything;
//! 2. no-change: it syncs again;
//! 3. fresh device: a new coordinator device joins and pulls everything (its own process:
//!    its peak memory is its own);
//! 4. 5% catch-up: two more punches in 5% of the documents (imported: back-dated), pushed
//!    by the first device and pulled by the second.
//!
//! Each step prints wall time, bytes up and down (HTTP included, TCP/IP not), and the
//! relay's CPU time; the relay's peak memory (VmHWM) is printed at the end.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use logbook_e2e::logbook_core::{HourType, Logbook, Punch, PunchKind, PunchSource, StoreKey};
use logbook_e2e::{RelayProcess, coordinator_grant, create_coop_with_binary, free_port};

const PEOPLE: usize = 40;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes: one device's sync or join in a process of its own.
    if let Some(i) = args.iter().position(|a| a == "--child-join") {
        child(&args[i + 1], Some((&args[i + 2], &args[i + 3])));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child-sync") {
        child(&args[i + 1], None);
        return;
    }
    // `cargo test --benches` runs bench binaries with no `--bench`: do nothing then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let docs: Vec<usize> = args
        .iter()
        .position(|a| a == "--docs")
        .map(|i| {
            args[i + 1]
                .split(',')
                .map(|n| n.trim().parse().expect("--docs N[,N...]"))
                .collect()
        })
        .unwrap_or_else(|| vec![200, 2000]);
    let import = args.iter().any(|a| a == "--import");
    for n in docs {
        run(n, import);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A device in this process: join or sync once, then print its time, what it received and
/// its peak memory on one line for the parent.
fn child(home: &str, join: Option<(&String, &String)>) {
    let rt = runtime();
    let book = Logbook::open(home, &StoreKey::insecure_test_key()).expect("open");
    let t = Instant::now();
    let pulled = rt.block_on(async {
        match join {
            Some((url, code)) => {
                let info = book
                    .sync()
                    .join(url, code, "new laptop")
                    .await
                    .expect("join");
                assert!(info.synced, "first sync failed: {:?}", info.sync_error);
                0
            }
            None => book.sync().run().await.expect("sync").pulled_blobs,
        }
    });
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let held: i64 =
        logbook_e2e::logbook_core::open_raw_store(Path::new(home), &StoreKey::insecure_test_key())
            .ok()
            .and_then(|c| {
                c.query_row("SELECT count(DISTINCT doc) FROM chunks", [], |r| r.get(0))
                    .ok()
            })
            .unwrap_or(-1);
    println!(
        "RESULT {ms:.1} {pulled} {held} {:.1} {:.2}",
        vm_hwm_mib(std::process::id()),
        cpu_seconds(std::process::id())
    );
}

/// Run this bench binary as a child device; returns (ms, pulled blobs, documents held,
/// peak MiB, CPU seconds of the whole process: opening its store included).
fn run_child(args: &[&str]) -> (f64, u64, i64, f64, f64) {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(args)
        .output()
        .expect("run child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .expect("a RESULT line");
    let f: Vec<&str> = line.split_whitespace().collect();
    (
        f[0].parse().expect("ms"),
        f[1].parse().expect("pulled"),
        f[2].parse().expect("held"),
        f[3].parse().expect("MiB"),
        f[4].parse().expect("CPU seconds"),
    )
}

fn vm_hwm_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat`, USER_HZ = 100).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Loopback proxy that only counts: bytes are passed on as they are read, with no
/// shaping. (`PoorLink` with an unlimited rate is not that: it moves 512-byte chunks with a
/// timer sleep each, which costs about a millisecond per chunk, so it alone made a new
/// device's first pull of 200 documents take seconds.)
struct CountingLink {
    addr: std::net::SocketAddr,
    counted: Arc<[AtomicU64; 2]>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingLink {
    fn start(rt: &tokio::runtime::Runtime, relay: &RelayProcess) -> CountingLink {
        let target = relay.addr;
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind the counting link");
            let addr = listener.local_addr().expect("its address");
            let counted = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
            let c = counted.clone();
            // Ends when the link is dropped (the task is aborted).
            let task = tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let c = c.clone();
                    tokio::spawn(async move {
                        let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::join!(pump(cr, sw, &c[0]), pump(sr, cw, &c[1]));
                    });
                }
            });
            CountingLink {
                addr,
                counted,
                task,
            }
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn bytes_up(&self) -> u64 {
        self.counted[0].load(Ordering::Relaxed)
    }

    fn bytes_down(&self) -> u64 {
        self.counted[1].load(Ordering::Relaxed)
    }
}

impl Drop for CountingLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copy one direction of a connection, counting, until either side closes it.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    count: &AtomicU64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        count.fetch_add(n as u64, Ordering::Relaxed);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// 09:00 UTC on `day` of the `m`-th month from January 2016.
fn month_day(m: usize, day: i8) -> i64 {
    let year = 2016 + (m / 12) as i16;
    let month = (m % 12) as i8 + 1;
    jiff::civil::date(year, month, day)
        .at(9, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("a date")
        .timestamp()
        .as_second()
}

/// Document `d`: person `d % 40`, month `d / 40`.
fn doc_slot(people: &[String], d: usize) -> (&str, usize) {
    (&people[d % PEOPLE], d / PEOPLE)
}

fn tap_shift(book: &Logbook, person: &str, at: i64) {
    for (kind, off, t) in [
        (PunchKind::ClockIn, 0, Some(HourType::Paid)),
        (PunchKind::ClockOut, 4 * 3600, None),
    ] {
        book.timesheets()
            .punch(
                person,
                kind,
                Some(at + off),
                t,
                None,
                PunchSource::Coordinator,
            )
            .expect("punch");
    }
}

struct Step<'a> {
    link: &'a CountingLink,
    relay: &'a RelayProcess,
    up: u64,
    down: u64,
    cpu: f64,
    t: Instant,
}

impl<'a> Step<'a> {
    fn start(link: &'a CountingLink, relay: &'a RelayProcess) -> Step<'a> {
        Step {
            link,
            relay,
            up: link.bytes_up(),
            down: link.bytes_down(),
            cpu: cpu_seconds(relay.pid()),
            t: Instant::now(),
        }
    }

    fn print(self, label: &str, ms: Option<f64>, extra: &str) {
        let ms = ms.unwrap_or_else(|| self.t.elapsed().as_secs_f64() * 1000.0);
        println!(
            "  {label:<22} {ms:9.1} ms  up {:>11} B  down {:>11} B  relay CPU {:7.3} s{extra}",
            self.link.bytes_up() - self.up,
            self.link.bytes_down() - self.down,
            cpu_seconds(self.relay.pid()) - self.cpu,
        );
    }
}

fn run(n: usize, import: bool) {
    let rt = runtime();
    let root = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("tempdir");
    let relay_dir = root.path().join("relay");
    let code = create_coop_with_binary(&relay_dir, "Bench Co-op");
    let relay = RelayProcess::spawn(
        &relay_dir,
        format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("address"),
    );
    let link = CountingLink::start(&rt, &relay);

    let book =
        Logbook::open(root.path().join("first"), &StoreKey::insecure_test_key()).expect("open");
    book.directory()
        .init("Bench Co-op", "Europe/London")
        .expect("init");
    rt.block_on(book.sync().join(&link.url(), &code, "office laptop"))
        .expect("join");
    let people: Vec<String> = (0..PEOPLE)
        .map(|i| {
            book.directory()
                .add_person(&format!("Worker {i}"), &[], &[], false)
                .expect("person")
        })
        .collect();
    rt.block_on(book.sync().run()).expect("settle");

    let t = Instant::now();
    if import {
        let device = book.device_key();
        let mut batch = Vec::new();
        for d in 0..n {
            let (person, m) = doc_slot(&people, d);
            for day in 1..=10 {
                let at = month_day(m, day);
                for (k, kind, off) in [(0, PunchKind::ClockIn, 0), (1, PunchKind::ClockOut, 14400)]
                {
                    batch.push(Punch {
                        id: format!("b-{d}-{day}-{k}"),
                        person_id: person.to_string(),
                        kind,
                        at: at + off,
                        device: device.clone(),
                        source: PunchSource::Coordinator,
                        hour_type: HourType::Paid,
                        site_id: None,
                    });
                }
            }
            if batch.len() >= 20_000 {
                book.timesheets().import_punches(&batch).expect("import");
                batch.clear();
            }
        }
        book.timesheets().import_punches(&batch).expect("import");
    } else {
        for d in 0..n {
            let (person, m) = doc_slot(&people, d);
            for day in 1..=10 {
                tap_shift(&book, person, month_day(m, day));
            }
        }
    }
    println!(
        "sync cost: N = {n} documents of 20 punches ({}), end-to-end encryption on; written in {:.1} s",
        if import {
            "imported: one change per document"
        } else {
            "tapped: one change per punch"
        },
        t.elapsed().as_secs_f64()
    );

    // 1. Upload.
    let step = Step::start(&link, &relay);
    let s = rt.block_on(book.sync().run()).expect("upload");
    step.print(
        "upload",
        None,
        &format!("  ({} blobs, {} changes)", s.pushed_blobs, s.pushed_changes),
    );

    // 2. No change.
    let step = Step::start(&link, &relay);
    rt.block_on(book.sync().run()).expect("no-change sync");
    step.print("no-change", None, "");

    // 3. A fresh coordinator device.
    let invite = rt
        .block_on(book.sync().invite(coordinator_grant(), None))
        .expect("invite")
        .code;
    let home = root.path().join("fresh");
    let step = Step::start(&link, &relay);
    let (ms, _, held, mib, cpu) = run_child(&[
        "--child-join",
        home.to_str().expect("utf-8 path"),
        &link.url(),
        &invite,
    ]);
    step.print(
        "fresh device (join)",
        Some(ms),
        &format!("  ({held} documents, client peak {mib:.1} MiB, client CPU {cpu:.2} s)"),
    );
    // The first device recognises the new one (not measured).
    rt.block_on(book.sync().run()).expect("vouch");

    // 4. 5% catch-up.
    // Imported (a coordinator's back-dated entry, one change per document): a tap would
    // be checked against the person's later shifts.
    let device = book.device_key();
    let mut extra = Vec::new();
    for d in (0..n).step_by(20) {
        let (person, m) = doc_slot(&people, d);
        let at = month_day(m, 20);
        for (k, kind, off) in [(0, PunchKind::ClockIn, 0), (1, PunchKind::ClockOut, 14400)] {
            extra.push(Punch {
                id: format!("c-{d}-{k}"),
                person_id: person.to_string(),
                kind,
                at: at + off,
                device: device.clone(),
                source: PunchSource::Coordinator,
                hour_type: HourType::Paid,
                site_id: None,
            });
        }
    }
    book.timesheets().import_punches(&extra).expect("import");
    let step = Step::start(&link, &relay);
    let s = rt.block_on(book.sync().run()).expect("catch-up push");
    step.print(
        "5% catch-up: push",
        None,
        &format!("  ({} documents)", s.pushed_blobs),
    );
    let step = Step::start(&link, &relay);
    let (ms, pulled, _, mib, cpu) =
        run_child(&["--child-sync", home.to_str().expect("utf-8 path")]);
    step.print(
        "5% catch-up: pull",
        Some(ms),
        &format!("  ({pulled} blobs, client peak {mib:.1} MiB, client CPU {cpu:.2} s)"),
    );
    println!(
        "  relay peak memory (VmHWM) {:.1} MiB",
        vm_hwm_mib(relay.pid())
    );
}
