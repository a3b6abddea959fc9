//! Relay benchmarks (a bench binary; bounded, loopback only). Run with
//! `CARGO_TARGET_DIR=target/relay cargo bench -p logbook-relay --bench relay`.
//!
//! 1. No-change sync of a coordinator holding 2,000 documents: relay handling time (from
//!    the `Server-Timing` header) and client round trip.
//! 2. 500 devices syncing concurrently against the real binary (pull with no change plus an
//!    occasional small push): requests/s, p50/p99 latency, relay peak RSS. With
//!    `LOGBOOK_BENCH_POSTGRES=postgres://...` also on PostgreSQL with one relay process and
//!    with two (devices spread over both; CPU and RSS summed over the processes).
//! 3. Catch-up pull of one week of a 40-person coop: bytes on the wire vs blob bytes.
//! 4. A relay for a whole network: 1,000 coops of 40 devices each (one coordinator laptop
//!    and one kiosk syncing every 30 s as the desktop app does, 38 phones every 15 minutes
//!    as WorkManager and BGTaskScheduler do), polled on that schedule for a minute, then
//!    the same schedule ten times faster: requests/s, p50/p99 latency, relay memory per
//!    thousand devices. `-- coops`; `LOGBOOK_BENCH_COOPS=N` for another size, and with
//!    `LOGBOOK_BENCH_POSTGRES` also on PostgreSQL.
//!
//! Numbers are recorded in docs/PERFORMANCE.md (## Relay).

use logbook_protocol::{
    self as proto, Grant, PullResponse, PushDoc, PushRequest, PushResponse, Role,
};
use logbook_relay::{RelayConfig, admin};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Tiny deterministic generator so every run pushes the same data.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() as usize) % (hi - lo + 1)
    }
    /// A blob of a realistic automerge change size, unique per call.
    fn blob(&mut self, lo: usize, hi: usize) -> serde_bytes::ByteBuf {
        let n = self.range(lo, hi);
        serde_bytes::ByteBuf::from((0..n).map(|_| self.next() as u8).collect::<Vec<u8>>())
    }
}

#[derive(Clone)]
struct Device {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Device {
    async fn join(http: &reqwest::Client, base: &str, code: &str) -> Res<Device> {
        let body = serde_json::json!({"code": code, "device_name": "bench"});
        let res = http
            .post(format!("{base}/v1/join"))
            .header(CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body)?)
            .send()
            .await?;
        let status = res.status();
        let v: serde_json::Value = serde_json::from_slice(&res.bytes().await?)?;
        if !status.is_success() {
            return Err(format!("join failed: {status} {v}").into());
        }
        Ok(Device {
            http: http.clone(),
            base: base.to_string(),
            auth: format!("Bearer {}", v["token"].as_str().ok_or("no token")?),
        })
    }

    async fn invite(&self, grant: &Grant) -> Res<String> {
        let body = serde_json::to_vec(&proto::InviteRequest {
            grant: grant.clone(),
            expires_in_hours: None,
        })?;
        let res = self
            .http
            .post(format!("{}/v1/invites", self.base))
            .header(AUTHORIZATION, &self.auth)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&res.bytes().await?)?;
        Ok(v["code"].as_str().ok_or("no code")?.to_string())
    }

    async fn push(&self, docs: Vec<PushDoc>) -> Res<PushResponse> {
        let res = self
            .http
            .post(format!("{}/v1/push", self.base))
            .header(AUTHORIZATION, &self.auth)
            .header(CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
            .body(proto::to_cbor(&PushRequest { docs }))
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("push failed: {}", res.status()).into());
        }
        Ok(proto::from_cbor(&res.bytes().await?)?)
    }

    /// Pull; returns the response, the relay's handling time (ms), the body length and an
    /// estimate of the HTTP/1.1 response head length.
    async fn pull(&self, after: u64) -> Res<(PullResponse, f64, usize, usize)> {
        let res = self
            .http
            .get(format!("{}/v1/pull?after={after}", self.base))
            .header(AUTHORIZATION, &self.auth)
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("pull failed: {}", res.status()).into());
        }
        let server_ms = res
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("dur=").nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        // "HTTP/1.1 200 OK\r\n" + "name: value\r\n"... + "\r\n"
        let head = 17
            + res
                .headers()
                .iter()
                .map(|(k, v)| k.as_str().len() + 2 + v.len() + 2)
                .sum::<usize>()
            + 2;
        let body = res.bytes().await?;
        Ok((proto::from_cbor(&body)?, server_ms, body.len(), head))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    format!(
        "mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (n={})",
        mean,
        percentile(&v, 0.50),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN),
        v.len()
    )
}

fn grant(role: Role, person: Option<String>, site: Option<&str>) -> Grant {
    Grant {
        role,
        person,
        site: site.map(str::to_string),
        supports: vec![],
    }
}

async fn no_change_sync_with_2000_docs() -> Res<()> {
    println!("== 1. no-change sync, coordinator holding 2,000 documents ==");
    let dir = tempfile::tempdir()?;
    let created = admin::create_coop(dir.path(), "Bench")?;
    let relay = logbook_relay::start(RelayConfig::new(dir.path(), "127.0.0.1:0".parse()?)).await?;
    let http = reqwest::Client::new();
    let coord = Device::join(&http, &relay.url(), &created.coordinator_code).await?;
    let mut rng = XorShift(7);
    for batch in 0..2 {
        let docs = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                PushDoc {
                    doc: format!("records:p{}/doc-{n}", n % 40),
                    blobs: (0..3).map(|_| rng.blob(150, 400)).collect(),
                    supersedes: vec![],
                    key: None,
                }
            })
            .collect();
        coord.push(docs).await?;
    }
    // Catch up once, then measure pulls that find nothing.
    let mut after = 0;
    let mut docs = 0;
    loop {
        let (page, ..) = coord.pull(after).await?;
        docs += page.docs.len();
        after = page.next;
        if !page.more {
            break;
        }
    }
    println!(
        "held: 2,000 documents, 6,000 blobs ({docs} document entries over the catch-up pages), cursor {after}"
    );
    for _ in 0..50 {
        coord.pull(after).await?;
    }
    let (mut server, mut client) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..1000 {
        let t0 = Instant::now();
        let (page, server_ms, len, _) = coord.pull(after).await?;
        client.push(t0.elapsed().as_secs_f64() * 1000.0);
        server.push(server_ms);
        bytes = len;
        assert!(page.docs.is_empty());
    }
    println!("relay handling time: {}", summary(server));
    println!("client round trip:   {}", summary(client));
    println!("response body: {bytes} bytes");
    relay.shutdown().await;
    Ok(())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds used so far by a process (from /proc/<pid>/stat).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Starts the relay binary on `store_args`; returns the child and its base URL.
fn spawn_relay(store_args: &[String]) -> Res<(std::process::Child, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logbook-relay"))
        // All 500 devices join from one loopback address: lift the per-address join limit.
        .args(["serve", "--listen", "127.0.0.1:0", "--join-per-minute", "0"])
        .args(store_args)
        .env("RUST_LOG", "warn")
        .env_remove("LOGBOOK_RELAY_DATA")
        .env_remove("LOGBOOK_RELAY_DATABASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or("no url")?
        .to_string();
    Ok((child, base))
}

/// A fresh store for one bench: the SQLite file in `dir`, or a fresh schema of the
/// PostgreSQL server at `postgres` (dropped by `drop_bench_schema`). Returns the relay's
/// command-line arguments for it and the store itself (for `admin`).
fn bench_store(
    dir: &std::path::Path,
    postgres: Option<&str>,
) -> Res<(Vec<String>, logbook_relay::store::Database)> {
    Ok(match postgres {
        Some(url) => {
            let schema = format!("bench_{}", std::process::id());
            logbook_relay::store::postgres::drop_schema(url, &schema)?;
            logbook_relay::store::postgres::create_schema(url, &schema)?;
            let target = logbook_relay::store::PgTarget {
                url: url.to_string(),
                schema: Some(schema.clone()),
            };
            let base = url.split('?').next().unwrap_or_default();
            (
                vec![
                    "--database".into(),
                    format!("{base}?options=-c%20search_path%3D{schema}"),
                ],
                logbook_relay::store::Database::Postgres(target),
            )
        }
        None => (
            vec!["--data".into(), dir.display().to_string()],
            logbook_relay::store::Database::Sqlite(dir.to_path_buf()),
        ),
    })
}

fn drop_bench_schema(postgres: Option<&str>) -> Res<()> {
    if let Some(url) = postgres {
        logbook_relay::store::postgres::drop_schema(url, &format!("bench_{}", std::process::id()))?;
    }
    Ok(())
}

/// Resident memory now (VmRSS), in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `processes` relay binaries on the SQLite file in `dir`, or on a fresh schema of the
/// PostgreSQL server at `postgres`; devices are spread over them round-robin.
async fn many_devices(
    devices: usize,
    requests_per_device: usize,
    postgres: Option<&str>,
    processes: usize,
) -> Res<()> {
    let backend = match postgres {
        Some(_) => format!("PostgreSQL, {processes} relay process(es)"),
        None => "SQLite, 1 relay process".to_string(),
    };
    println!(
        "== 2. {devices} devices syncing concurrently, {requests_per_device} requests each (real binary; {backend}) =="
    );
    let dir = tempfile::tempdir()?;
    let (store_args, db) = bench_store(dir.path(), postgres)?;
    let created = admin::create_coop(&db, "Bench")?;
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..processes.max(1) {
        let (child, base) = spawn_relay(&store_args)?;
        children.push(child);
        bases.push(base);
    }
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let base = bases[0].clone();
    let peak_rss_kib = |_: u32| -> Option<u64> { pids.iter().map(|&p| peak_rss_kib(p)).sum() };
    let cpu_seconds = |_: u32| -> Option<f64> { pids.iter().map(|&p| cpu_seconds(p)).sum() };
    let pid = pids[0];
    let result = async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(devices)
            .build()?;
        let coord = Device::join(&http, &base, &created.coordinator_code).await?;
        let mut rng = XorShift(11);
        coord
            .push(vec![PushDoc {
                doc: "directory/main".into(),
                blobs: (0..20).map(|_| rng.blob(150, 400)).collect(),
                supersedes: vec![],
                key: None,
            }])
            .await?;
        // Devices: mostly personal phones, a few kiosks (one per 25 devices).
        let mut joined = Vec::with_capacity(devices);
        for i in 0..devices {
            let g = if i % 25 == 0 {
                grant(Role::Kiosk, None, Some("cafe"))
            } else {
                grant(Role::Worker, Some(format!("p{i}")), None)
            };
            let code = coord.invite(&g).await?;
            let dev = Device::join(&http, &bases[i % bases.len()], &code).await?;
            let (first, ..) = dev.pull(0).await?;
            joined.push((i, dev, first.next));
        }
        let rss_before = peak_rss_kib(pid).unwrap_or(0);
        let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
        let start = Instant::now();
        let barrier = Arc::new(tokio::sync::Barrier::new(devices));
        let mut tasks = Vec::with_capacity(devices);
        for (i, dev, cursor) in joined {
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = XorShift(1000 + i as u64);
                let mut lat = Vec::with_capacity(requests_per_device);
                let mut push_lat = Vec::new();
                let mut after = cursor;
                barrier.wait().await;
                for r in 0..requests_per_device {
                    let t0 = Instant::now();
                    if r % 10 == 9 {
                        // An occasional punch: one small chunk.
                        let doc = format!("timesheet:p{i}/2026-11/dev{i}");
                        dev.push(vec![PushDoc {
                            doc,
                            blobs: vec![rng.blob(150, 400)],
                            supersedes: vec![],
                            key: None,
                        }])
                        .await?;
                        push_lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        let (page, ..) = dev.pull(after).await?;
                        after = page.next;
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                Res::Ok((lat, push_lat))
            }));
        }
        let (mut pulls, mut pushes) = (Vec::new(), Vec::new());
        for t in tasks {
            let (a, b) = t.await??;
            pulls.extend(a);
            pushes.extend(b);
        }
        let secs = start.elapsed().as_secs_f64();
        let n = pulls.len() + pushes.len();
        println!(
            "{n} requests in {secs:.2} s: {:.0} requests/s (10% pushes, each fsynced)",
            n as f64 / secs
        );
        let cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
        println!(
            "relay CPU: {cpu:.2} s ({:.0} us per request; the rest of the 2 cores ran the load generator)",
            cpu / n as f64 * 1e6
        );
        let all: Vec<f64> = pulls.iter().chain(&pushes).copied().collect();
        println!("latency, all:    {}", summary(all));
        println!("latency, pulls:  {}", summary(pulls));
        println!("latency, pushes: {}", summary(pushes));
        println!(
            "relay peak RSS (VmHWM): {:.1} MiB (before the load: {:.1} MiB)",
            peak_rss_kib(pid).unwrap_or(0) as f64 / 1024.0,
            rss_before as f64 / 1024.0
        );
        Res::Ok(())
    }
    .await;
    for mut child in children {
        child.kill()?;
        child.wait()?;
    }
    drop_bench_schema(postgres)?;
    result
}

async fn catch_up_week_40_people() -> Res<()> {
    println!("== 3. catch-up pull of one week, 40-person coop ==");
    let dir = tempfile::tempdir()?;
    let created = admin::create_coop(dir.path(), "Bench")?;
    let relay = logbook_relay::start(RelayConfig::new(dir.path(), "127.0.0.1:0".parse()?)).await?;
    let http = reqwest::Client::new();
    let coord = Device::join(&http, &relay.url(), &created.coordinator_code).await?;
    let mut rng = XorShift(40);
    let mut blob_bytes = 0usize;
    let mut blobs = 0usize;
    let mut push = |doc: String, n: usize, rng: &mut XorShift| {
        let b: Vec<_> = (0..n).map(|_| rng.blob(150, 400)).collect();
        blob_bytes += b.iter().map(|x| x.len()).sum::<usize>();
        blobs += b.len();
        PushDoc {
            doc,
            blobs: b,
            supersedes: vec![],
            key: None,
        }
    };
    let mut docs = vec![push("directory/main".into(), 5, &mut rng)];
    for p in 0..40 {
        // A week: 5 shifts of clock-in, break, back, clock-out on two devices' documents,
        // a review (approval) and a training record update.
        docs.push(push(format!("timesheet:p{p}/2026-11/phone"), 12, &mut rng));
        docs.push(push(format!("timesheet:p{p}/2026-11/kiosk"), 8, &mut rng));
        docs.push(push(format!("review:p{p}/2026-11"), 2, &mut rng));
        docs.push(push(format!("records:p{p}/training"), 1, &mut rng));
    }
    let doc_count = docs.len();
    coord.push(docs).await?;
    let t0 = Instant::now();
    let (mut wire, mut heads, mut pulls, mut after) = (0usize, 0usize, 0, 0);
    let mut server_ms = 0.0;
    loop {
        let (page, ms, len, head) = coord.pull(after).await?;
        wire += len;
        heads += head;
        pulls += 1;
        server_ms += ms;
        after = page.next;
        if !page.more {
            break;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{blobs} blobs in {doc_count} documents, {blob_bytes} blob bytes; {pulls} pull(s) in {elapsed:.2} ms (relay {server_ms:.2} ms)"
    );
    println!(
        "CBOR body {wire} bytes: overhead {:.2}%; with HTTP response heads (+{heads} bytes): {:.2}%",
        (wire as f64 / blob_bytes as f64 - 1.0) * 100.0,
        ((wire + heads) as f64 / blob_bytes as f64 - 1.0) * 100.0
    );
    relay.shutdown().await;
    Ok(())
}

/// One simulated device of the network bench: its coop, its sync interval and its cursor.
struct NetDevice {
    dev: Device,
    interval_s: f64,
    /// Kiosks also push (the taps since their last sync) on every other sync.
    kiosk: bool,
    person: String,
    after: u64,
    syncs: u64,
}

/// Joins `coops` coops of 40 devices each through the relay at `base`, as the apps do
/// (coordinator first, then its invites); each device pulls once so it holds a cursor.
async fn join_network(
    http: &reqwest::Client,
    base: &str,
    codes: Vec<String>,
) -> Res<Vec<NetDevice>> {
    let mut set = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    for (c, code) in codes.into_iter().enumerate() {
        let (http, base, limit) = (http.clone(), base.to_string(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let mut rng = XorShift(5000 + c as u64);
            let coord = Device::join(&http, &base, &code).await?;
            coord
                .push(vec![PushDoc {
                    doc: "directory/main".into(),
                    blobs: (0..5).map(|_| rng.blob(150, 400)).collect(),
                    supersedes: vec![],
                    key: None,
                }])
                .await?;
            let mut out = Vec::with_capacity(40);
            for i in 0..40 {
                let (dev, interval_s, kiosk) = match i {
                    0 => (coord.clone(), 30.0, false),
                    1 => {
                        let code = coord
                            .invite(&grant(Role::Kiosk, None, Some("cafe")))
                            .await?;
                        (Device::join(&http, &base, &code).await?, 30.0, true)
                    }
                    _ => {
                        let g = grant(Role::Worker, Some(format!("p{i}")), None);
                        let code = coord.invite(&g).await?;
                        (Device::join(&http, &base, &code).await?, 900.0, false)
                    }
                };
                let (first, ..) = dev.pull(0).await?;
                out.push(NetDevice {
                    dev,
                    interval_s,
                    kiosk,
                    person: format!("p{}", 2 + (c + i) % 38),
                    after: first.next,
                    syncs: 0,
                });
            }
            Res::Ok(out)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = set.join_next().await {
        all.extend(joined??);
    }
    Ok(all)
}

/// Runs the apps' sync schedule, `speedup` times faster, for `seconds` of wall time (open
/// loop: a request starts at its scheduled time whether or not earlier ones finished).
/// Prints requests/s, latency and how late the load generator was.
async fn poll_on_schedule(
    devices: &[Arc<tokio::sync::Mutex<NetDevice>>],
    intervals: &[f64],
    speedup: f64,
    seconds: f64,
    pid: u32,
) -> Res<()> {
    // Every device's sync times in [0, seconds), from a random phase in its interval.
    let mut rng = XorShift(99 + speedup as u64);
    let mut events: Vec<(f64, usize)> = Vec::new();
    for (i, interval) in intervals.iter().enumerate() {
        let every = interval / speedup;
        let mut t = (rng.next() % 1_000_000) as f64 / 1_000_000.0 * every;
        while t < seconds {
            events.push((t, i));
            t += every;
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let mut max_late = 0.0f64;
    for (at, i) in events {
        let due = start + std::time::Duration::from_secs_f64(at);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep_until(due.into()).await;
        } else {
            max_late = max_late.max((now - due).as_secs_f64() * 1000.0);
        }
        let slot = devices[i].clone();
        set.spawn(async move {
            let mut d = slot.lock().await;
            let NetDevice {
                dev,
                kiosk,
                person,
                after,
                syncs,
                ..
            } = &mut *d;
            let mut lat = Vec::with_capacity(2);
            *syncs += 1;
            if *kiosk && *syncs % 2 == 0 {
                let t0 = Instant::now();
                let mut rng = XorShift(*after + 17);
                dev.push(vec![PushDoc {
                    doc: format!("timesheet:{person}/2026-11/kiosk"),
                    blobs: vec![rng.blob(150, 400), rng.blob(150, 400)],
                    supersedes: vec![],
                    key: None,
                }])
                .await?;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            let t0 = Instant::now();
            let mut pulls = 0;
            loop {
                let (page, ..) = dev.pull(*after).await?;
                *after = page.next;
                pulls += 1;
                if !page.more || pulls > 20 {
                    break;
                }
            }
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            Res::Ok(lat)
        });
    }
    // A sync that fails is counted, as an app would count it and retry at its next turn.
    let (mut lat, mut failed) = (Vec::new(), 0usize);
    while let Some(done) = set.join_next().await {
        match done? {
            Ok(l) => lat.extend(l),
            Err(e) => {
                if failed == 0 {
                    eprintln!("first failed sync: {e}");
                }
                failed += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    println!(
        "schedule x{speedup}: {} requests in {secs:.1} s = {:.0} requests/s, {failed} failed syncs; relay CPU {cpu:.2} s ({:.0}% of one core); generator at most {max_late:.0} ms late",
        lat.len(),
        lat.len() as f64 / secs,
        cpu / secs * 100.0
    );
    println!("  latency: {}", summary(lat));
    Ok(())
}

async fn network_of_coops(coops: usize, postgres: Option<&str>) -> Res<()> {
    let backend = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "== 4. a relay for {coops} coops of 40 devices each ({} devices; {backend}, 1 relay process) ==",
        coops * 40
    );
    let dir = tempfile::tempdir()?;
    let (store_args, db) = bench_store(dir.path(), postgres)?;
    let t0 = Instant::now();
    let mut codes = Vec::with_capacity(coops);
    for c in 0..coops {
        codes.push(admin::create_coop(&db, &format!("Coop {c}"))?.coordinator_code);
    }
    let (mut child, base) = spawn_relay(&store_args)?;
    let pid = child.id();
    let result = async {
        // Let the relay settle, then take its resident memory with no device yet.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let rss_empty = rss_kib(pid).unwrap_or(0);
        // Idle connections are dropped well before the relay's own idle timeout (120 s), so
        // a pooled connection is never one the relay is closing.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .pool_idle_timeout(std::time::Duration::from_secs(20))
            .build()?;
        let joined = join_network(&http, &base, codes).await?;
        println!(
            "set-up: {coops} coops, {} devices joined and pulled once in {:.1} s",
            joined.len(),
            t0.elapsed().as_secs_f64()
        );
        let intervals: Vec<f64> = joined.iter().map(|d| d.interval_s).collect();
        let devices: Vec<_> = joined
            .into_iter()
            .map(|d| Arc::new(tokio::sync::Mutex::new(d)))
            .collect();
        poll_on_schedule(&devices, &intervals, 1.0, 60.0, pid).await?;
        poll_on_schedule(&devices, &intervals, 10.0, 30.0, pid).await?;
        let rss_now = rss_kib(pid).unwrap_or(0);
        let per_thousand = (rss_now.saturating_sub(rss_empty)) as f64 / 1024.0
            / (devices.len() as f64 / 1000.0);
        println!(
            "relay memory: {:.1} MiB with no device, {:.1} MiB now (peak {:.1} MiB): {per_thousand:.2} MiB per thousand devices",
            rss_empty as f64 / 1024.0,
            rss_now as f64 / 1024.0,
            peak_rss_kib(pid).unwrap_or(0) as f64 / 1024.0
        );
        Res::Ok(())
    }
    .await;
    child.kill()?;
    child.wait()?;
    drop_bench_schema(postgres)?;
    result
}

fn main() -> Res<()> {
    // `cargo bench` passes `--bench`; anything else selects benchmarks by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        if wants("no_change") {
            no_change_sync_with_2000_docs().await?;
        }
        if wants("devices") {
            many_devices(500, 20, None, 1).await?;
            // With LOGBOOK_BENCH_POSTGRES=postgres://... (scripts/setup-postgres.sh): the
            // same load on PostgreSQL with one relay process, then two.
            if let Ok(url) = std::env::var("LOGBOOK_BENCH_POSTGRES") {
                many_devices(500, 20, Some(&url), 1).await?;
                many_devices(500, 20, Some(&url), 2).await?;
            }
        }
        if wants("catch_up") {
            catch_up_week_40_people().await?;
        }
        if wants("coops") {
            let coops = std::env::var("LOGBOOK_BENCH_COOPS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000);
            network_of_coops(coops, None).await?;
            if let Ok(url) = std::env::var("LOGBOOK_BENCH_POSTGRES") {
                network_of_coops(coops, Some(&url)).await?;
            }
        }
        Res::Ok(())
    })?;
    Ok(())
}
