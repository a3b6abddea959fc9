//! Legitimate sync under attack (a bench binary; bounded, loopback only). Run with
//! `CARGO_TARGET_DIR=target/relay cargo bench -p logbook-relay --bench hostile`
//! (optional arguments: number of devices, requests per device, attackers).
//!
//! The real binary with its default limits serves 500 devices syncing as in
//! `benches/relay.rs` (no-change pulls, a small push every tenth request), once alone and
//! once while 50 misbehaving clients run: garbage pushes and 8 MiB "blob bombs" from
//! enrolled devices, headers sent a byte at a time, and join-code guessing. Every device
//! and attacker has its own loopback address (127.0.x.y), as phones behind different
//! connections would, so per-address join limits apply as in production. Each run starts
//! with a warm-up round (connections opened). Prints the legitimate p50/p99 latency and
//! throughput of both runs, the CPU seconds the relay and this load generator used in each
//! phase, what the attackers got, and the relay's peak memory.

use logbook_protocol::{self as proto, Grant, PushDoc, PushRequest, Role};
use logbook_relay::admin;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Loopback address number `i` (127.0.x.y, skipping 127.0.0.1 which the setup uses).
fn loopback(i: usize) -> IpAddr {
    let n = i + 2;
    IpAddr::V4(Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250 + 2) as u8))
}

fn client_from(ip: IpAddr) -> Res<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(30))
        .build()?)
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

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`
/// (Linux; clock ticks of 1/100 s).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// CPU seconds the relay and this load generator (legitimate devices and attackers) used
/// while `f` ran.
async fn cpu_during<T>(pid: u32, f: impl std::future::Future<Output = T>) -> (T, f64, f64) {
    let relay = pid.to_string();
    let (r0, b0) = (cpu_seconds(&relay), cpu_seconds("self"));
    let out = f.await;
    let (r1, b1) = (cpu_seconds(&relay), cpu_seconds("self"));
    let diff = |a: Option<f64>, b: Option<f64>| b.zip(a).map_or(f64::NAN, |(b, a)| b - a);
    (out, diff(r0, r1), diff(b0, b1))
}

#[derive(Clone)]
struct Device {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Device {
    async fn join(http: &reqwest::Client, base: &str, code: &str) -> Res<Device> {
        let res = http
            .post(format!("{base}/v1/join"))
            .json(&serde_json::json!({"code": code, "device_name": "bench"}))
            .send()
            .await?;
        let status = res.status();
        let v: serde_json::Value = res.json().await?;
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
        let res = self
            .http
            .post(format!("{}/v1/invites", self.base))
            .header(AUTHORIZATION, &self.auth)
            .json(&proto::InviteRequest {
                grant: grant.clone(),
                expires_in_hours: None,
            })
            .send()
            .await?;
        let v: serde_json::Value = res.json().await?;
        Ok(v["code"].as_str().ok_or("no code")?.to_string())
    }

    async fn push_raw(&self, body: Vec<u8>) -> Res<reqwest::StatusCode> {
        let res = self
            .http
            .post(format!("{}/v1/push", self.base))
            .header(AUTHORIZATION, &self.auth)
            .header(CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
            .body(body)
            .send()
            .await?;
        let status = res.status();
        res.bytes().await?;
        Ok(status)
    }

    async fn pull(&self, after: u64) -> Res<proto::PullResponse> {
        let res = self
            .http
            .get(format!("{}/v1/pull?after={after}", self.base))
            .header(AUTHORIZATION, &self.auth)
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("pull failed: {}", res.status()).into());
        }
        Ok(proto::from_cbor(&res.bytes().await?)?)
    }
}

fn grant(role: Role, person: Option<String>, site: Option<&str>) -> Grant {
    Grant {
        role,
        person,
        site: site.map(str::to_string),
        supports: vec![],
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One round of legitimate traffic: every device `requests` times, a push every tenth.
/// Returns (latencies in ms, failed requests, seconds).
async fn legit_round(
    devices: &mut [(usize, Device, u64)],
    requests: usize,
    round: u64,
) -> Res<(Vec<f64>, usize, f64)> {
    let start = Instant::now();
    let barrier = Arc::new(tokio::sync::Barrier::new(devices.len()));
    let mut tasks = Vec::new();
    for (i, dev, cursor) in devices.iter() {
        let (i, dev, mut after, barrier) = (*i, dev.clone(), *cursor, barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = XorShift(1000 + i as u64 + round * 7919);
            let (mut lat, mut failed) = (Vec::with_capacity(requests), 0usize);
            barrier.wait().await;
            for r in 0..requests {
                let t0 = Instant::now();
                let ok = if r % 10 == 9 {
                    let body = proto::to_cbor(&PushRequest {
                        docs: vec![PushDoc {
                            doc: format!("timesheet:p{i}/2026-11/dev{i}"),
                            blobs: vec![serde_bytes::ByteBuf::from(rng.bytes(250))],
                            supersedes: vec![],
                            key: None,
                        }],
                    });
                    matches!(dev.push_raw(body).await, Ok(s) if s.is_success())
                } else {
                    match dev.pull(after).await {
                        Ok(page) => {
                            after = page.next;
                            true
                        }
                        Err(_) => false,
                    }
                };
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                failed += usize::from(!ok);
            }
            (lat, failed, after)
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for (t, d) in tasks.into_iter().zip(devices.iter_mut()) {
        let (lat, f, after) = t.await?;
        all.extend(lat);
        failed += f;
        d.2 = after;
    }
    Ok((all, failed, start.elapsed().as_secs_f64()))
}

fn report(name: &str, mut lat: Vec<f64>, failed: usize, secs: f64) {
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name}: {} requests in {secs:.2} s = {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failed} failed",
        lat.len(),
        lat.len() as f64 / secs,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
    );
}

/// What the attackers got back, by kind and outcome.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);
impl Tally {
    fn add(&self, what: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(what)
            .or_default() += 1;
    }
}

/// An 8 MiB push of ~8.4 million empty blobs (refused at the blob count while decoding).
fn blob_bomb() -> Vec<u8> {
    let mut body = vec![0xa1, 0x64];
    body.extend_from_slice(b"docs");
    body.extend_from_slice(&[0x81, 0xa2, 0x63]);
    body.extend_from_slice(b"doc");
    body.push(0x6e);
    body.extend_from_slice(b"timesheet:ax/x");
    body.push(0x65);
    body.extend_from_slice(b"blobs");
    let n = proto::MAX_BODY_BYTES - body.len() - 5;
    body.push(0x9a);
    body.extend_from_slice(&(n as u32).to_be_bytes());
    body.resize(body.len() + n, 0x40);
    body
}

async fn garbage_pusher(dev: Device, seed: u64, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut rng = XorShift(seed);
    let bomb = blob_bomb();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let body = if n.is_multiple_of(8) {
            bomb.clone()
        } else {
            let len = 64 + (rng.next() % 65_536) as usize;
            rng.bytes(len)
        };
        n += 1;
        match dev.push_raw(body).await {
            Ok(s) => tally.add(format!("garbage push -> {}", s.as_u16())),
            Err(_) => tally.add("garbage push -> connection error".into()),
        }
    }
}

async fn slow_headers(addr: SocketAddr, ip: IpAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    while !stop.load(Ordering::Relaxed) {
        let socket = match tokio::net::TcpSocket::new_v4() {
            Ok(s) => s,
            Err(_) => return,
        };
        if socket.bind(SocketAddr::new(ip, 0)).is_err() {
            return;
        }
        let Ok(mut stream) = socket.connect(addr).await else {
            tally.add("slow headers: connect failed".into());
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let started = Instant::now();
        let request = format!(
            "GET /v1/pull HTTP/1.1\r\nHost: r\r\nX-Pad: {}\r\n\r\n",
            "a".repeat(4000)
        );
        let mut cut = false;
        for b in request.bytes() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if stream.write_all(&[b]).await.is_err() {
                cut = true;
                break;
            }
            // Peek whether the relay hung up (read returns 0 or an error).
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    cut = true;
                    break;
                }
                _ => {}
            }
        }
        tally.add(if cut {
            format!(
                "slow headers: cut off after ~{} s",
                started.elapsed().as_secs()
            )
        } else {
            "slow headers: still open when the attack stopped".to_string()
        });
    }
}

async fn join_guesser(
    http: reqwest::Client,
    base: String,
    seed: u64,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let mut rng = XorShift(seed);
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    while !stop.load(Ordering::Relaxed) {
        let code: String = (0..12)
            .map(|_| ALPHABET[(rng.next() % 32) as usize] as char)
            .collect();
        let res = http
            .post(format!("{base}/v1/join"))
            .json(&serde_json::json!({"code": code, "device_name": "guess"}))
            .send()
            .await;
        match res {
            Ok(r) => tally.add(format!("join guess -> {}", r.status().as_u16())),
            Err(_) => tally.add("join guess -> connection error".into()),
        }
    }
}

fn main() -> Res<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let devices = args.first().copied().unwrap_or(500);
    let requests = args.get(1).copied().unwrap_or(20);
    let attackers = args.get(2).copied().unwrap_or(50);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(devices, requests, attackers))
}

async fn run(devices: usize, requests: usize, attackers: usize) -> Res<()> {
    println!(
        "== {devices} devices x {requests} requests, alone and with {attackers} attackers (real binary, default limits) =="
    );
    let dir = tempfile::tempdir()?;
    let created = admin::create_coop(dir.path(), "Bench")?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logbook-relay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or("no url")?
        .to_string();
    let addr: SocketAddr = base.trim_start_matches("http://").parse()?;
    let result = async {
        let setup = reqwest::Client::new();
        let coord = Device::join(&setup, &base, &created.coordinator_code).await?;
        // Legitimate devices, each from its own address (so joins are not limited).
        let mut legit = Vec::with_capacity(devices);
        for i in 0..devices {
            let g = if i % 25 == 0 {
                grant(Role::Kiosk, None, Some("cafe"))
            } else {
                grant(Role::Worker, Some(format!("p{i}")), None)
            };
            let code = coord.invite(&g).await?;
            let dev = Device::join(&client_from(loopback(i))?, &base, &code).await?;
            let first = dev.pull(0).await?;
            legit.push((i, dev, first.next));
        }
        // Enrolled devices that turn hostile (a stolen phone, a broken client).
        let pushers = attackers * 2 / 5;
        let mut hostile = Vec::new();
        for a in 0..pushers {
            let code = coord
                .invite(&grant(Role::Worker, Some(format!("ax{a}")), None))
                .await?;
            hostile.push(Device::join(&client_from(loopback(devices + a))?, &base, &code).await?);
        }
        let rss_idle = peak_rss_kib(pid).unwrap_or(0);

        // A warm-up round opens every device's connection; then the calm measurement.
        legit_round(&mut legit, requests, 0).await?;
        let (round, relay_cpu, bench_cpu) =
            cpu_during(pid, legit_round(&mut legit, requests, 1)).await;
        let (lat, failed, secs) = round?;
        report("alone          ", lat, failed, secs);
        println!("  CPU: relay {relay_cpu:.2} s, load generator {bench_cpu:.2} s");
        let rss_alone = peak_rss_kib(pid).unwrap_or(0);

        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let mut attack = Vec::new();
        for (a, dev) in hostile.into_iter().enumerate() {
            attack.push(tokio::spawn(garbage_pusher(dev, 77 + a as u64, stop.clone(), tally.clone())));
        }
        let slow = (attackers - pushers) / 2;
        for s in 0..slow {
            let ip = loopback(devices + pushers + s);
            attack.push(tokio::spawn(slow_headers(addr, ip, stop.clone(), tally.clone())));
        }
        for g in 0..attackers - pushers - slow {
            let http = client_from(loopback(devices + pushers + slow + g))?;
            attack.push(tokio::spawn(join_guesser(http, base.clone(), 991 + g as u64, stop.clone(), tally.clone())));
        }
        // Let the attack reach its stride: join guesses over their limit, slow-header
        // connections cut off (10 s) and reopened at least once.
        let ((), relay_cpu, bench_cpu) =
            cpu_during(pid, tokio::time::sleep(Duration::from_secs(12))).await;
        println!(
            "attack ramp-up (12 s, no legitimate traffic): CPU relay {relay_cpu:.2} s, load generator {bench_cpu:.2} s"
        );
        // As for the calm run, a warm-up round first: the 12 s without legitimate traffic
        // outlast the relay's 10 s keep-alive, so every device reconnects, and 500
        // connects at once (SYN retries after 1, 3, 7 s on a busy machine) would otherwise
        // be measured as if the attack had caused them.
        legit_round(&mut legit, requests, 3).await?;
        let (round, relay_cpu, bench_cpu) =
            cpu_during(pid, legit_round(&mut legit, requests, 2)).await;
        let (lat, failed, secs) = round?;
        report("under attack   ", lat, failed, secs);
        println!("  CPU: relay {relay_cpu:.2} s, load generator {bench_cpu:.2} s");
        stop.store(true, Ordering::Relaxed);
        for t in attack {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
        let rss_attack = peak_rss_kib(pid).unwrap_or(0);
        println!("attackers got:");
        for (what, n) in tally.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            println!("  {what}: {n}");
        }
        println!(
            "relay peak RSS (VmHWM): {:.1} MiB idle after setup, {:.1} MiB after the calm round, {:.1} MiB after the attack",
            rss_idle as f64 / 1024.0,
            rss_alone as f64 / 1024.0,
            rss_attack as f64 / 1024.0
        );
        Res::Ok(())
    }
    .await;
    child.kill()?;
    child.wait()?;
    result
}
