//! Shared setup for the end-to-end scenarios in `tests/tests/*.rs`: a relay (in this
//! process, or the `logbook-relay` binary as a child process), a coop with a coordinator,
//! worker phones and a kiosk (each a real `logbook_core::Logbook` in its own directory),
//! and small raw-HTTP helpers that speak the wire protocol with a device's own token.
//!
//! Every scenario is bounded: relays listen on 127.0.0.1 with port 0 (or a port picked
//! the same way), child processes are killed on drop, and every wait has a deadline.
//!
//! Scenarios (`cargo test -p logbook-e2e`):
//! - `convergence.rs`: two coordinator devices, phones and a kiosk edit offline and sync
//!   in several orders and concurrently; same shifts, audit trails, training, reports.
//! - `double_punch.rs`: a phone-and-kiosk double punch counts once.
//! - `access.rs`: the access table with raw HTTP and each device's token; consent.
//! - `revocation.rs`: a revoked phone gets 401 and nothing new.
//! - `relay_crash.rs`: the `logbook-relay` binary SIGKILLed mid-push, restarted; nothing
//!   acknowledged is lost, nothing doubled. Needs the binary built
//!   (`cargo build -p logbook-relay`) or `LOGBOOK_RELAY_BIN`.
//! - `note_erasure.rs`: a deleted note thread leaves no trace on devices or the relay.
//! - `garbage.rs`: bad requests get 400/413/415 and the relay keeps serving.
//!
//! Tests marked `#[ignore = "bug: ..."]` document known bugs in other crates; run them
//! with `cargo test -p logbook-e2e -- --ignored`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use logbook_core::protocol::{self as proto, Grant, Role};
use logbook_core::{Logbook, PersonRole, Punch, StoreKey};
use logbook_relay::{RelayConfig, RunningRelay};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

pub use logbook_core;
pub use logbook_protocol;

/// The coop's time zone in every scenario.
pub const TZ: &str = "Europe/London";

/// Unix seconds of an RFC 3339 instant, e.g. `at("2026-11-16T09:00:00Z")`.
pub fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>()
        .expect("a valid RFC 3339 instant in the test")
        .as_second()
}

/// A worker with a phone.
pub struct Worker {
    pub name: String,
    pub person: String,
    pub pin: String,
    pub phone: Logbook,
}

/// A whole coop around one relay.
pub struct Coop {
    /// Holds every device's home and (for an in-process relay) the relay's data.
    pub root: tempfile::TempDir,
    pub relay_dir: PathBuf,
    /// `None` when the relay runs elsewhere (a child process).
    pub relay: Option<RunningRelay>,
    pub url: String,
    pub coordinator: Logbook,
    pub site: String,
    pub workers: Vec<Worker>,
    pub kiosk: Logbook,
    /// People with no phone (they use only the kiosk): (name, person id, PIN).
    pub kiosk_only: Vec<(String, String, String)>,
    pub http: reqwest::Client,
}

pub fn worker_grant(person: &str) -> Grant {
    Grant {
        role: Role::Worker,
        person: Some(person.to_string()),
        site: None,
        supports: vec![],
    }
}

pub fn kiosk_grant(site: &str) -> Grant {
    Grant {
        role: Role::Kiosk,
        person: None,
        site: Some(site.to_string()),
        supports: vec![],
    }
}

pub fn supporter_grant(supports: &[&str]) -> Grant {
    Grant {
        role: Role::Supporter,
        person: None,
        site: None,
        supports: supports.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn coordinator_grant() -> Grant {
    Grant {
        role: Role::Coordinator,
        person: None,
        site: None,
        supports: vec![],
    }
}

const WORKER_NAMES: [&str; 6] = ["Aisha", "Ben", "Carla", "Dev", "Ewa", "Finn"];

impl Coop {
    /// An in-process relay on 127.0.0.1:0 and a coop with `phones` workers who have a
    /// phone plus `kiosk_only` workers who use only the kiosk.
    pub async fn start(phones: usize, kiosk_only: usize) -> Coop {
        Coop::start_configured(phones, kiosk_only, |_| {}).await
    }

    /// [`Coop::start`] with the relay's configuration changed by `configure` first.
    pub async fn start_configured(
        phones: usize,
        kiosk_only: usize,
        configure: impl FnOnce(&mut RelayConfig),
    ) -> Coop {
        let root = tempfile::tempdir().expect("temporary directory");
        let relay_dir = root.path().join("relay");
        let mut config =
            RelayConfig::new(&relay_dir, "127.0.0.1:0".parse().expect("loopback address"));
        configure(&mut config);
        let relay = logbook_relay::start(config)
            .await
            .expect("start the relay in-process");
        let created =
            logbook_relay::admin::create_coop(&relay_dir, "Riverside Bakery").expect("create coop");
        let url = relay.url();
        Coop::setup(
            root,
            relay_dir,
            Some(relay),
            url,
            &created.coordinator_code,
            phones,
            kiosk_only,
        )
        .await
    }

    /// Set up the coop on a relay already serving at `url`.
    pub async fn setup(
        root: tempfile::TempDir,
        relay_dir: PathBuf,
        relay: Option<RunningRelay>,
        url: String,
        coordinator_code: &str,
        phones: usize,
        kiosk_only: usize,
    ) -> Coop {
        assert!(phones + kiosk_only <= WORKER_NAMES.len());
        let coordinator = Logbook::open(
            root.path().join("coordinator"),
            &logbook_core::StoreKey::insecure_test_key(),
        )
        .expect("open store");
        coordinator
            .directory()
            .init("Riverside Bakery", TZ)
            .expect("init coop");
        coordinator
            .sync()
            .join(&url, coordinator_code, "office laptop")
            .await
            .expect("coordinator joins");
        let site = coordinator
            .directory()
            .add_site("Bakery")
            .expect("add site");
        let sites = std::slice::from_ref(&site);
        let mut people = Vec::new();
        for (i, name) in WORKER_NAMES.iter().take(phones + kiosk_only).enumerate() {
            let person = coordinator
                .directory()
                .add_person(name, &[PersonRole::Worker], sites, i % 2 == 0)
                .expect("add person");
            let pin = format!("{}", 1111 * (i + 1));
            coordinator
                .directory()
                .set_pin(&person, &pin)
                .expect("set PIN");
            people.push((name.to_string(), person, pin));
        }
        coordinator
            .sync()
            .run()
            .await
            .expect("coordinator's first sync");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let mut coop = Coop {
            kiosk: Logbook::open(
                root.path().join("kiosk"),
                &logbook_core::StoreKey::insecure_test_key(),
            )
            .expect("open store"),
            root,
            relay_dir,
            relay,
            url,
            coordinator,
            site,
            workers: Vec::new(),
            kiosk_only: Vec::new(),
            http,
        };
        let kiosk_only_people = people.split_off(phones);
        for (name, person, pin) in people {
            let phone = coop
                .join_device(&worker_grant(&person), &format!("phone-{name}"))
                .await;
            coop.workers.push(Worker {
                name,
                person,
                pin,
                phone,
            });
        }
        coop.kiosk_only = kiosk_only_people;
        let code = coop
            .coordinator
            .sync()
            .invite(kiosk_grant(&coop.site), None)
            .await
            .expect("invite the kiosk")
            .code;
        coop.kiosk
            .sync()
            .join(&coop.url, &code, "bakery kiosk")
            .await
            .expect("kiosk joins");
        coop
    }

    /// The coordinator invites a device with `grant`; it joins (and syncs once); the
    /// coordinator syncs, which recognises the new device by its join proof and
    /// certifies it, so the coop's other devices trust it from their next sync.
    pub async fn join_device(&self, grant: &Grant, name: &str) -> Logbook {
        self.join_device_with_clock(grant, name, Arc::new(logbook_core::SystemClock))
            .await
    }

    /// [`Coop::join_device`] for a device whose clock the test sets (a `ManualClock`).
    pub async fn join_device_with_clock(
        &self,
        grant: &Grant,
        name: &str,
        clock: Arc<dyn logbook_core::Clock>,
    ) -> Logbook {
        let code = self
            .coordinator
            .sync()
            .invite(grant.clone(), None)
            .await
            .expect("invite")
            .code;
        let book = Logbook::open_with_clock(
            self.root.path().join(name),
            &logbook_core::StoreKey::insecure_test_key(),
            clock,
        )
        .expect("open store");
        book.sync()
            .join(&self.url, &code, name)
            .await
            .expect("join");
        self.coordinator
            .sync()
            .run()
            .await
            .expect("the coordinator syncs after the join");
        book
    }

    /// The person's device approves `device` (a supporter's, or another of the person's)
    /// to receive their notes key: both sync first so each trusts the other, and the
    /// person's device syncs after, which wraps the key for it; then `device` syncs.
    pub async fn approve_for_notes(&self, person_device: &Logbook, person: &str, device: &Logbook) {
        for book in [device, person_device] {
            book.sync().run().await.expect("sync before approving");
        }
        person_device
            .sync()
            .approve_notes_device(person, &device.device_key())
            .expect("approve the device for notes");
        person_device
            .sync()
            .run()
            .await
            .expect("sync after approving");
        device
            .sync()
            .run()
            .await
            .expect("the approved device syncs");
    }

    pub fn worker(&self, name: &str) -> &Worker {
        self.workers
            .iter()
            .find(|w| w.name == name)
            .expect("a worker of this coop")
    }

    /// A raw-protocol view of the relay as `book`.
    pub fn raw(&self, book: &Logbook) -> Raw {
        Raw {
            http: self.http.clone(),
            base: self.url.clone(),
            token: token(book.home()),
            signer: Signer::of(book.home()),
        }
    }

    pub async fn shutdown(self) {
        if let Some(relay) = self.relay {
            relay.shutdown().await;
        }
    }
}

// ---------- reading a device's store directly ----------

/// A value from a device store's `meta` table (`token`, `relay_device_id`, `cursor`, ...).
pub fn meta(home: &Path, key: &str) -> Option<String> {
    let conn = logbook_core::open_raw_store(home, &StoreKey::insecure_test_key())
        .expect("open the device store with the test key");
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .ok()
}

/// The relay token a device keeps in its store.
pub fn token(home: &Path) -> String {
    meta(home, "token").expect("the device has joined and holds a token")
}

/// The relay's id for a device.
pub fn device_id(home: &Path) -> String {
    meta(home, "relay_device_id").expect("the device has joined")
}

/// Every punch a device holds for a person (as its subject-access export shows them).
pub fn punches(book: &Logbook, person: &str) -> Vec<Punch> {
    let export = book.reports().export_person(person).expect("export person");
    serde_json::from_value(export["punches"].clone()).expect("punches in the export")
}

/// Whether `needle` occurs in the file at `path` (false if there is no such file).
/// Every file under `dir`, in any subdirectory (a relay's data directory: its database,
/// WAL and anything else it wrote). Panics if there is none: a scan of nothing proves nothing.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    assert!(!out.is_empty(), "no file under {}", dir.display());
    out
}

pub fn file_contains(path: &Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(_) => false,
    }
}

/// Pieces of the sealed blobs the relay holds for documents whose id starts with
/// `doc_prefix`: 32 bytes from the middle of each (ciphertext). The relay never holds a
/// note's text, so erasure tests look for these instead.
pub fn relay_blob_markers(relay_dir: &Path, doc_prefix: &str) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open_with_flags(
        relay_dir.join("relay.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the relay database read-only");
    let mut stmt = conn
        .prepare("SELECT doc, data FROM log WHERE kind = 'blob'")
        .expect("query");
    let rows: Vec<(String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs");
    rows.into_iter()
        .filter(|(doc, data)| doc.starts_with(doc_prefix) && data.len() >= 96)
        .map(|(_, data)| {
            let mid = data.len() / 2;
            data[mid - 16..mid + 16].to_vec()
        })
        .collect()
}

/// Whether any of `markers` is in an SQLite database or its WAL / rollback journal.
pub fn sqlite_contains_any(db: &Path, markers: &[Vec<u8>]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = markers
        .iter()
        .flat_map(|m| sqlite_contains(db, m))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `needle` occurs in an SQLite database or its WAL / rollback journal. A device
/// store is encrypted at rest: its pages and WAL frames are searched decrypted (with the
/// test key, [`decrypted_pages`]), free pages and old frames included, so a scan for what
/// an erasure should have overwritten still means something. The relay's database is
/// plain and searched as it is.
pub fn sqlite_contains(db: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let encrypted = std::fs::read(db)
        .map(|b| !b.is_empty() && !b.starts_with(SQLITE_HEADER))
        .unwrap_or(false);
    ["", "-wal", "-journal"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .filter(|p| {
            if encrypted && p.exists() {
                let plain = decrypted_pages(p, &StoreKey::insecure_test_key());
                plain.windows(needle.len()).any(|w| w == needle)
            } else {
                file_contains(p, needle)
            }
        })
        .collect()
}

const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";
/// SQLCipher 4's defaults, which the device stores use.
const PAGE: usize = 4096;
const SALT: usize = 16;
const IV: usize = 16;
const RESERVE: usize = IV + 64;

/// The plaintext of every page in a SQLCipher database file, or of every frame in its WAL
/// (`-wal` suffix), decrypted under `key` as SQLCipher 4 lays them out: 4,096-byte pages,
/// page 1 starting with the file's 16-byte salt, each page ending in a reserve of a
/// 16-byte IV and a 64-byte HMAC, the rest AES-256-CBC under the raw key. The HMAC is not
/// checked: this reads what is on disk, it does not vouch for it.
pub fn decrypted_pages(path: &Path, key: &StoreKey) -> Vec<u8> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    let bytes = std::fs::read(path).expect("read the store file");
    let is_wal = path.to_string_lossy().ends_with("-wal");
    let pages: Vec<(u32, &[u8])> = if is_wal {
        // A 32-byte WAL header, then frames of a 24-byte header and one page.
        bytes
            .get(32..)
            .unwrap_or_default()
            .chunks_exact(24 + PAGE)
            .map(|f| {
                let pgno = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
                (pgno, &f[24..])
            })
            .collect()
    } else {
        bytes
            .chunks_exact(PAGE)
            .enumerate()
            .map(|(i, p)| (i as u32 + 1, p))
            .collect()
    };
    let mut out = Vec::with_capacity(pages.len() * PAGE);
    for (pgno, page) in pages {
        let start = if pgno == 1 { SALT } else { 0 };
        let end = PAGE - RESERVE;
        let iv = &page[end..end + IV];
        let mut buf = page[start..end].to_vec();
        let dec = cbc::Decryptor::<aes::Aes256>::new(key.as_bytes().into(), iv.into());
        if let Ok(plain) = dec.decrypt_padded_mut::<NoPadding>(&mut buf) {
            out.extend_from_slice(plain);
        }
    }
    out
}

// ---------- raw protocol ----------

/// One device's raw HTTP view of the relay.
#[derive(Clone)]
pub struct Raw {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    /// Seals what [`Raw::push`] sends as this device, as the relay requires of a device
    /// with registered keys. `None`: push the bytes as they are.
    pub signer: Option<Signer>,
}

/// A device's signing identity and scope keys read from its store, to seal raw pushes
/// the way its own sync would (to the scope's key, signed by it, bound to coop and
/// document). Where the device holds no key of the scope, the blob is sealed to a fresh
/// throwaway key: the relay checks only the signature, and readers cannot open it.
#[derive(Clone)]
pub struct Signer {
    pub coop: String,
    identity_hex: String,
    keys_hex: Option<String>,
}

impl Signer {
    pub fn of(home: &Path) -> Option<Signer> {
        Some(Signer {
            coop: meta(home, "coop_id")?,
            identity_hex: meta(home, "e2e_identity")?,
            keys_hex: meta(home, "e2e_keys"),
        })
    }

    pub fn identity(&self) -> logbook_crypto::Identity {
        let bytes = hex::decode(&self.identity_hex).expect("hex identity");
        logbook_crypto::Identity::from_bytes(&bytes).expect("a stored identity")
    }

    /// `bytes` sealed for `doc` and signed by this device, to the scope key it holds
    /// (else a throwaway one).
    pub fn seal(&self, doc: &str, bytes: &[u8]) -> Vec<u8> {
        let scope = proto::Scope::of_doc(doc).expect("a document id");
        let held = self
            .keys_hex
            .as_ref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| logbook_crypto::KeyRing::from_bytes(&b).ok())
            .and_then(|ring| ring.sealing_key(&scope).ok());
        self.seal_to(doc, bytes, &held.unwrap_or_else(|| throwaway_key(doc)))
    }

    pub fn seal_to(
        &self,
        doc: &str,
        bytes: &[u8],
        key: &logbook_crypto::ScopePublicKey,
    ) -> Vec<u8> {
        let ctx = logbook_crypto::BlobContext::new(&self.coop, doc).expect("a document id");
        logbook_crypto::seal_blob_to(
            &ctx,
            &self.identity(),
            key,
            bytes,
            logbook_crypto::Compression::None,
        )
        .expect("seal")
        .bytes
    }
}

/// A public key of `doc`'s scope that no device holds.
pub fn throwaway_key(doc: &str) -> logbook_crypto::ScopePublicKey {
    let scope = proto::Scope::of_doc(doc).expect("a document id");
    logbook_crypto::ScopeSecretKey::generate(scope)
        .expect("a key")
        .public_key()
}

pub fn push_request(docs: &[(&str, &[u8])]) -> proto::PushRequest {
    proto::PushRequest {
        docs: docs
            .iter()
            .map(|(doc, bytes)| proto::PushDoc {
                doc: doc.to_string(),
                blobs: vec![serde_bytes::ByteBuf::from(bytes.to_vec())],
                supersedes: vec![],
                key: None,
            })
            .collect(),
    }
}

impl Raw {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST /v1/push with a body and content type of the caller's choosing.
    pub async fn push_bytes(&self, content_type: Option<&str>, body: Vec<u8>) -> StatusCode {
        let mut req = self
            .http
            .post(self.url("/v1/push"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let resp = req.send().await.expect("push request");
        let status = resp.status();
        let _ = resp.bytes().await;
        status
    }

    /// Push one blob per document (sealed by the device's [`Signer`] if it has one); the
    /// status and, on 200, the relay's answer.
    pub async fn push(&self, docs: &[(&str, &[u8])]) -> (StatusCode, Option<proto::PushResponse>) {
        let sealed: Vec<(&str, Vec<u8>)> = docs
            .iter()
            .map(|(doc, bytes)| match &self.signer {
                Some(s) => (*doc, s.seal(doc, bytes)),
                None => (*doc, bytes.to_vec()),
            })
            .collect();
        let docs: Vec<(&str, &[u8])> = sealed.iter().map(|(d, b)| (*d, b.as_slice())).collect();
        self.push_as_is(&docs).await
    }

    /// Push one blob per document exactly as given.
    pub async fn push_as_is(
        &self,
        docs: &[(&str, &[u8])],
    ) -> (StatusCode, Option<proto::PushResponse>) {
        let resp = self
            .http
            .post(self.url("/v1/push"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
            .body(proto::to_cbor(&push_request(docs)))
            .send()
            .await
            .expect("push request");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("push answer");
        let body = (status == StatusCode::OK)
            .then(|| proto::from_cbor::<proto::PushResponse>(&bytes).expect("CBOR push answer"));
        (status, body)
    }

    /// GET /v1/pull with a raw query string; the status and, on 200, the page.
    pub async fn pull_query(&self, query: &str) -> (StatusCode, Option<proto::PullResponse>) {
        let resp = self
            .http
            .get(self.url(&format!("/v1/pull?{query}")))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .send()
            .await
            .expect("pull request");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("pull answer");
        let body = (status == StatusCode::OK)
            .then(|| proto::from_cbor::<proto::PullResponse>(&bytes).expect("CBOR pull answer"));
        (status, body)
    }

    /// Pull everything readable after `after` (following `more`). Returns the document
    /// ids seen (with repeats removed), the erased ones, the final cursor and the last
    /// page's `notes_readable`.
    pub async fn pull_all(&self, after: u64, scope: Option<&str>) -> Pulled {
        let mut out = Pulled {
            next: after,
            ..Pulled::default()
        };
        for _ in 0..1000 {
            let mut q = format!("after={}", out.next);
            if let Some(s) = scope {
                q.push_str(&format!("&scope={s}"));
            }
            let (status, page) = self.pull_query(&q).await;
            assert_eq!(status, StatusCode::OK, "pull {q}");
            let page = page.expect("a page");
            for d in &page.docs {
                if !out.docs.contains(&d.doc) {
                    out.docs.push(d.doc.clone());
                }
                out.blobs += d.blobs.len();
            }
            out.deleted.extend(page.deleted.iter().cloned());
            out.notes_readable = page.notes_readable.clone();
            out.next = page.next;
            if !page.more {
                return out;
            }
        }
        panic!("the relay kept saying `more`");
    }

    pub async fn status_of(&self, req: reqwest::RequestBuilder) -> StatusCode {
        let resp = req
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let _ = resp.bytes().await;
        status
    }
}

#[derive(Debug, Default, Clone)]
pub struct Pulled {
    pub docs: Vec<String>,
    pub blobs: usize,
    pub deleted: Vec<String>,
    pub next: u64,
    pub notes_readable: Vec<String>,
}

// ---------- the relay as a child process ----------

/// The `logbook-relay` binary next to this test executable (target/<profile>/).
pub fn relay_binary() -> PathBuf {
    if let Ok(p) = std::env::var("LOGBOOK_RELAY_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    for dir in exe.ancestors().skip(1).take(3) {
        let candidate = dir.join(format!("logbook-relay{}", std::env::consts::EXE_SUFFIX));
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "logbook-relay binary not found next to {}: run `cargo build -p logbook-relay` first \
         (or set LOGBOOK_RELAY_BIN)",
        exe.display()
    );
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// `logbook-relay admin --data DIR create-coop --name N`: the coordinator join code.
pub fn create_coop_with_binary(data: &Path, name: &str) -> String {
    let out = Command::new(relay_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(["create-coop", "--name", name])
        .output()
        .expect("run logbook-relay admin create-coop");
    assert!(
        out.status.success(),
        "create-coop failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("coordinator code:"))
        .map(|c| c.trim().to_string())
        .expect("a `coordinator code:` line")
}

/// A `logbook-relay serve` child process, killed (SIGKILL) when dropped.
pub struct RelayProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl RelayProcess {
    /// Start serving `data` on `addr`; returns once it printed `listening on`.
    pub fn spawn(data: &Path, addr: SocketAddr) -> RelayProcess {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(relay_binary())
                .arg("serve")
                .arg("--data")
                .arg(data)
                .arg("--listen")
                .arg(addr.to_string())
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn logbook-relay serve");
            let stdout = child.stdout.take().expect("piped stdout");
            let mut line = String::new();
            // The relay prints one line once bound; EOF means it exited (port still
            // held by the killed process's socket, say): try again shortly.
            let n = BufReader::new(stdout).read_line(&mut line).unwrap_or(0);
            if n > 0 && line.starts_with("listening on") {
                return RelayProcess { child, addr };
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                std::time::Instant::now() < deadline,
                "the relay did not start on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The child's process id (benches read its CPU time and peak memory in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no graceful shutdown, no flush beyond what was committed.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the relay");
        self.child.wait().expect("reap the relay");
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sync `book` until it succeeds, or panic after `limit`.
pub async fn sync_until_ok(book: &Logbook, limit: Duration) -> logbook_core::sync::SyncSummary {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match book.sync().run().await {
            Ok(s) => return s,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "sync kept failing: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

// ---------- a poor link between a device and the relay ----------

/// A TCP proxy on 127.0.0.1 that behaves like a bad mobile link: it carries at most
/// `bytes_per_second` each way, delays every chunk by `latency` (one way), and cuts each
/// connection (both directions) at a random moment `cut_after.0..cut_after.1` after it
/// opened. Deterministic for a seed. Stops when dropped. Counts the bytes it carried each
/// way, so tests can measure what a sync costs on the wire.
pub struct PoorLink {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    counted: Arc<Counted>,
}

#[derive(Default)]
struct Counted {
    up: AtomicU64,
    down: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
pub struct LinkShape {
    pub bytes_per_second: u64,
    pub latency: Duration,
    pub cut_after: (Duration, Duration),
    pub seed: u64,
}

impl PoorLink {
    pub async fn start(upstream: SocketAddr, shape: LinkShape) -> PoorLink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the link");
        let addr = listener.local_addr().expect("link address");
        let counted = Arc::new(Counted::default());
        let count = counted.clone();
        let task = tokio::spawn(async move {
            let mut rng = shape.seed | 1;
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let (lo, hi) = shape.cut_after;
                let span = hi.saturating_sub(lo).as_millis().max(1) as u64;
                let cut = lo + Duration::from_millis(rng % span);
                let count = count.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(cr, sw, shape, &count.up);
                    let down = pump(sr, cw, shape, &count.down);
                    // Whichever comes first: both directions done, or the cut.
                    let _ = tokio::time::timeout(cut, async {
                        tokio::join!(up, down);
                    })
                    .await;
                });
            }
        });
        PoorLink {
            addr,
            task,
            counted,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes carried from devices to the relay so far (HTTP headers included; TCP/IP
    /// overhead not), counting bytes read before a cut dropped them too.
    pub fn bytes_up(&self) -> u64 {
        self.counted.up.load(Ordering::Relaxed)
    }

    /// Bytes carried from the relay to devices so far.
    pub fn bytes_down(&self) -> u64 {
        self.counted.down.load(Ordering::Relaxed)
    }
}

impl Drop for PoorLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copy one direction at the link's rate, each chunk arriving `latency` after it was sent
/// (a pipe: later chunks do not wait for earlier ones' latency, only for the rate).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shape: LinkShape,
    count: &AtomicU64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(tokio::time::Instant, Vec<u8>)>(256);
    let reader = async move {
        // Small chunks so the rate applies smoothly.
        let mut buf = vec![0u8; 512];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            count.fetch_add(n as u64, Ordering::Relaxed);
            let wire = Duration::from_micros(n as u64 * 1_000_000 / shape.bytes_per_second.max(1));
            tokio::time::sleep(wire).await;
            let due = tokio::time::Instant::now() + shape.latency;
            if tx.send((due, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

/// Point a joined device's store at another relay address (the same relay, reached
/// through a [`PoorLink`]). Test-only: the address is otherwise set at join.
pub fn set_relay_url(book: &Logbook, url: &str) {
    let conn = logbook_core::open_raw_store(book.home(), &StoreKey::insecure_test_key())
        .expect("open store");
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'relay_url'", [url])
        .expect("set relay url");
}
