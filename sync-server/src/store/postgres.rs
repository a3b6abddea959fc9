//! The PostgreSQL backend: several relay processes share one database and keep no state
//! of their own that matters (see docs/ARCHITECTURE.md, "Relay storage").
//!
//! The driver is tokio-postgres behind a deadpool pool. The [`RelayStore`] trait stays
//! synchronous (the HTTP layer calls it from `spawn_blocking`, the admin commands from a
//! plain thread), so each store owns a small tokio runtime that drives its connections,
//! and a method polls its query future on the calling thread with that runtime's context
//! entered ([`PgStore::block`]). That works the same from a blocking thread, the binary's
//! main thread, and a test's async function.
//!
//! Cursors never skip: every coop has one row in `log_ends` holding the last sequence
//! number handed out. A push or an erasure takes that row with an upsert (a row lock held
//! to commit), numbers its entries after it and writes the new end before committing.
//! Writers of one coop therefore commit in sequence order, and PostgreSQL makes a commit
//! visible before it releases the transaction's locks, so any snapshot that shows entry N
//! also shows every entry of that coop below N. A pull is one statement (one snapshot)
//! that reads the entries together with the coop's log end and keys epoch.
//!
//! Group commit, as in the SQLite store: concurrent pushes to one relay process are
//! committed together in one transaction (one WAL flush), each in its own savepoint so a
//! refused push leaves the others intact. Without it, the pushes of one coop waited for
//! each other's commit one at a time on the `log_ends` row. A batch locks its coops' rows
//! in coop-id order, so two processes' batches queue on each other instead of deadlocking.

use super::{
    CheckedDoc, DeviceKeysRow, DeviceRecord, Joined, KeysListing, KeysSet, NewDevice, PageBuilder,
    Quotas, RelayStore, doc_hash, grant_from_json, grant_to_json,
};
use crate::access::ReadFilter;
use crate::credentials::Hash;
use crate::error::RelayError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use logbook_protocol::{DeviceInfo, Grant, PullResponse, PushResponse};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use tokio_postgres::NoTls;

/// Schema version written by this relay (the `schema_version` table's one row).
pub const END_VERSION: i64 = 2;

/// Connections per relay process, at most. Two cores here; PostgreSQL's default of 100
/// connections leaves room for several processes.
const POOL_SIZE: usize = 16;

/// Key of the advisory lock that serialises migrations of processes starting together.
const MIGRATION_LOCK: i64 = 0x6c6f_6762_6f6f_6b31; // "logbook1"

/// Version 1: the SQLite schema at its version 4, in PostgreSQL types, plus `log_ends`.
/// Sequence numbers are per coop: the log's key is `(coop, seq)`.
const SCHEMA_V1: &str = "
CREATE TABLE coops (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
-- The last sequence number handed out in each coop: the row lock that orders writers.
CREATE TABLE log_ends (
    coop  TEXT PRIMARY KEY,
    seq   BIGINT NOT NULL
);
CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    coop             TEXT NOT NULL REFERENCES coops(id),
    name             TEXT NOT NULL,
    grant_json       TEXT NOT NULL,
    token_hash       BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    last_seen_at     BIGINT,
    revoked          BOOLEAN NOT NULL DEFAULT false,
    acked            BIGINT NOT NULL DEFAULT 0,
    public_keys      BYTEA,
    key_id           TEXT,
    join_proof       BYTEA,
    key_fingerprint  BYTEA
);
CREATE INDEX devices_coop ON devices(coop);
CREATE INDEX devices_key_id ON devices(coop, key_id) WHERE key_id IS NOT NULL;
CREATE TABLE join_codes (
    code_hash     BYTEA PRIMARY KEY,
    coop          TEXT NOT NULL REFERENCES coops(id),
    grant_json    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    key_envelope  BYTEA,
    created_by    TEXT
);
CREATE INDEX join_codes_expires ON join_codes(expires_at);
CREATE TABLE consents (
    coop               TEXT NOT NULL REFERENCES coops(id),
    person             TEXT NOT NULL,
    coordinator_notes  BOOLEAN NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (coop, person)
);
CREATE TABLE log (
    coop        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    scope       TEXT NOT NULL,
    doc         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('blob', 'tombstone')),
    content_id  TEXT,
    key         TEXT,
    device      TEXT,
    data        BYTEA,
    PRIMARY KEY (coop, seq)
);
-- Idempotent push and supersedes; tombstones have a NULL content id (NULLs are distinct).
CREATE UNIQUE INDEX log_blob ON log(coop, doc, content_id);
CREATE INDEX log_tombstones ON log(coop, seq) WHERE kind = 'tombstone';
CREATE TABLE usage (
    coop    TEXT NOT NULL,
    device  TEXT NOT NULL,
    bytes   BIGINT NOT NULL,
    PRIMARY KEY (coop, device)
);
CREATE TABLE erased_docs (
    coop        TEXT NOT NULL,
    doc_hash    BYTEA NOT NULL,
    deleted_at  BIGINT NOT NULL,
    PRIMARY KEY (coop, doc_hash)
);
CREATE TABLE certificates (
    device  TEXT NOT NULL,
    hash    BYTEA NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (device, hash)
);
CREATE TABLE wrapped_keys (
    id         BIGSERIAL PRIMARY KEY,
    recipient  TEXT NOT NULL,
    hash       BYTEA NOT NULL,
    data       BYTEA NOT NULL
);
CREATE UNIQUE INDEX wrapped_keys_recipient ON wrapped_keys(recipient, hash);
CREATE TABLE keys_epochs (
    coop   TEXT PRIMARY KEY,
    epoch  BIGINT NOT NULL
);
";

/// Migration steps in order: step `i` takes the schema from version `i` to `i + 1`.
/// The log generation (docs/PROTOCOL.md, "Log generation"); its first value is written
/// by [`PgStore::migrate`], which can make a random id.
const SCHEMA_V2: &str = "
CREATE TABLE relay_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2];

/// Where a PostgreSQL store lives: a connection URL (`postgres://user@host:port/db`) and,
/// optionally, a schema to use instead of `public` (the tests give each relay its own).
#[derive(Clone)]
pub struct PgTarget {
    pub url: String,
    pub schema: Option<String>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgTarget")
            .field("url", &"postgres://…")
            .field("schema", &self.schema)
            .finish()
    }
}

impl From<tokio_postgres::Error> for RelayError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => RelayError::Postgres(format!(
                "SQLSTATE {}{}",
                db.code().code(),
                db.constraint()
                    .map(|c| format!(" on {c}"))
                    .unwrap_or_default()
            )),
            // Connection and protocol failures: no stored values in them.
            None => RelayError::Postgres(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for RelayError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => RelayError::Postgres(format!("connection pool: {other}")),
        }
    }
}

/// A valid SQL identifier for a test schema: ASCII letters, digits and `_`.
fn checked_schema(schema: &str) -> Result<&str, RelayError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(schema)
    } else {
        Err(RelayError::Invalid("database schema name"))
    }
}

fn parse_config(target: &PgTarget) -> Result<tokio_postgres::Config, RelayError> {
    let mut config: tokio_postgres::Config = target
        .url
        .parse()
        .map_err(|_| RelayError::Invalid("PostgreSQL URL"))?;
    if let Some(schema) = &target.schema {
        config.options(format!("-c search_path={}", checked_schema(schema)?));
    }
    if config.get_application_name().is_none() {
        config.application_name("logbook-relay");
    }
    Ok(config)
}

/// Polls `f` to completion on this thread. Wakers unpark the thread; the runtime whose
/// context the caller entered drives the sockets and timers.
fn park_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    // Unconstrained: called from inside a tokio task (an async test, a bench), the task's
    // co-operative budget runs out after some hundred operations, and from then on every
    // socket answers Pending and wakes us at once, forever, since this loop never yields
    // to the scheduler that would refill it: a spin that never finishes.
    let mut f = std::pin::pin!(tokio::task::unconstrained(f));
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// The relay's storage in PostgreSQL.
pub struct PgStore {
    /// Drives the pool's connections; shut down without blocking on drop.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
    quotas: Quotas,
    /// Acknowledged pull cursors not yet written, as in the SQLite store. Per process:
    /// each process writes its own at its sweeps (a device's acked cursor only grows).
    acks: Mutex<HashMap<String, u64>>,
    /// Pushes waiting for the next group commit, and the right to run one.
    pending: Mutex<Vec<Arc<PushJob>>>,
    committer: Mutex<()>,
}

/// A push waiting for a group commit; `result` is set once its batch has committed (or
/// failed as a whole).
struct PushJob {
    coop_id: String,
    device_id: String,
    docs: Vec<CheckedDoc>,
    result: Mutex<Option<Result<PushResponse, RelayError>>>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates `schema` (if missing) in the database at `url`. For test harnesses and
/// benches that give each relay a schema of its own on one server.
pub fn create_schema(url: &str, schema: &str) -> Result<(), RelayError> {
    on_server(
        url,
        |schema| format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
        schema,
    )
}

/// Drops `schema` and everything in it (test clean-up).
pub fn drop_schema(url: &str, schema: &str) -> Result<(), RelayError> {
    on_server(
        url,
        |schema| format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        schema,
    )
}

/// Runs the statement `sql` makes of a checked schema name on the server at `url`.
fn on_server(url: &str, sql: impl FnOnce(&str) -> String, schema: &str) -> Result<(), RelayError> {
    let store = PgStore::connect(&PgTarget {
        url: url.to_string(),
        schema: None,
    })?;
    let statement = sql(checked_schema(schema)?);
    store.block(async {
        let client = store.pool.get().await?;
        client.batch_execute(&statement).await?;
        Ok(())
    })
}

impl PgStore {
    /// Connects to the database at `target` and migrates it.
    pub fn open(target: &PgTarget) -> Result<PgStore, RelayError> {
        let store = PgStore::connect(target)?;
        store.block(store.migrate())?;
        Ok(store)
    }

    fn connect(target: &PgTarget) -> Result<PgStore, RelayError> {
        let config = parse_config(target)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("logbook-pg")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .map_err(|e| RelayError::Postgres(format!("connection pool: {e}")))?;
        Ok(PgStore {
            runtime: Some(runtime),
            handle,
            pool,
            quotas: Quotas::default(),
            acks: Mutex::default(),
            pending: Mutex::default(),
            committer: Mutex::default(),
        })
    }

    /// The same store with storage quotas enforced on push.
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Runs `f` to completion on the calling thread (see the module documentation).
    fn block<F: Future>(&self, f: F) -> F::Output {
        let _context = self.handle.enter();
        park_on(f)
    }

    async fn migrate(&self) -> Result<(), RelayError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await?;
        let version: i64 = match tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await?
        {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])
                    .await?;
                0
            }
        };
        if version > END_VERSION {
            return Err(RelayError::NewerSchema(version));
        }
        for step in MIGRATIONS.iter().skip(version.max(0) as usize) {
            tx.batch_execute(step).await?;
        }
        if version < END_VERSION {
            tx.execute("UPDATE schema_version SET version = $1", &[&END_VERSION])
                .await?;
        }
        tx.execute(
            "INSERT INTO relay_meta (key, value) VALUES ('log_generation', $1)
             ON CONFLICT (key) DO NOTHING",
            &[&super::new_generation_id()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Connects without migrating and reads the schema version (`None`: not created
    /// yet), for `logbook-relay check`.
    pub fn probe(target: &PgTarget) -> Result<Option<i64>, RelayError> {
        let store = PgStore::connect(target)?;
        store.block(async {
            let client = store.pool.get().await?;
            let exists: bool = client
                .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
                .await?
                .get(0);
            if !exists {
                return Ok(None);
            }
            Ok(client
                .query_opt("SELECT version FROM schema_version", &[])
                .await?
                .map(|r| r.get(0)))
        })
    }

    /// The schema version of the database (for tests and `admin`).
    pub fn schema_version(&self) -> Result<i64, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_one("SELECT version FROM schema_version", &[])
                .await?
                .get(0))
        })
    }
}

/// Bumps the keys epoch of `coop_id` inside the caller's transaction.
/// [`super::plaintext_page`] over the `(doc, content_id, data)` rows of the two migration
/// listings' queries.
fn plaintext_page(
    rows: &[deadpool_postgres::tokio_postgres::Row],
    limit: u32,
    max_bytes: usize,
) -> (Vec<super::PlaintextDoc>, bool) {
    super::plaintext_page(
        rows.iter().map(|r| {
            (
                r.get::<_, String>(0),
                r.get::<_, Option<String>>(1).unwrap_or_default(),
                r.get::<_, Option<Vec<u8>>>(2),
            )
        }),
        limit,
        max_bytes,
    )
}

async fn bump_keys_epoch(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
) -> Result<(), RelayError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO keys_epochs (coop, epoch) VALUES ($1, 1)
             ON CONFLICT (coop) DO UPDATE SET epoch = keys_epochs.epoch + 1",
        )
        .await?;
    tx.execute(&stmt, &[&coop_id]).await?;
    Ok(())
}

/// Serialises key registrations of one coop (a key id must stay with one key pair).
async fn lock_coop_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
) -> Result<(), RelayError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 1))",
        &[&coop_id],
    )
    .await?;
    Ok(())
}

/// Takes the coop's log end under a row lock held to commit; returns the last sequence
/// number handed out.
async fn take_log_end(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
) -> Result<i64, RelayError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO log_ends (coop, seq) VALUES ($1, 0)
             ON CONFLICT (coop) DO UPDATE SET seq = log_ends.seq
             RETURNING seq",
        )
        .await?;
    Ok(tx.query_one(&stmt, &[&coop_id]).await?.get(0))
}

async fn set_log_end(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
    seq: i64,
) -> Result<(), RelayError> {
    let stmt = tx
        .prepare_cached("UPDATE log_ends SET seq = $2 WHERE coop = $1")
        .await?;
    tx.execute(&stmt, &[&coop_id, &seq]).await?;
    Ok(())
}

async fn add_usage(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
    device: &str,
    delta: i64,
) -> Result<(), RelayError> {
    if delta != 0 {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO usage (coop, device, bytes) VALUES ($1, $2, $3)
                 ON CONFLICT (coop, device) DO UPDATE SET bytes = usage.bytes + excluded.bytes",
            )
            .await?;
        tx.execute(&stmt, &[&coop_id, &device, &delta]).await?;
    }
    Ok(())
}

async fn check_quotas(
    tx: &deadpool_postgres::Transaction<'_>,
    coop_id: &str,
    device_id: &str,
    quotas: Quotas,
) -> Result<(), RelayError> {
    let over = |used: i64, quota: u64| quota > 0 && used > i64::try_from(quota).unwrap_or(i64::MAX);
    let device: i64 = tx
        .query_one(
            "SELECT coalesce(sum(bytes), 0)::BIGINT FROM usage WHERE coop = $1 AND device = $2",
            &[&coop_id, &device_id],
        )
        .await?
        .get(0);
    if over(device, quotas.device_bytes) {
        return Err(RelayError::QuotaExceeded(
            "this device's storage quota on the relay is full",
        ));
    }
    let coop: i64 = tx
        .query_one(
            "SELECT coalesce(sum(bytes), 0)::BIGINT FROM usage WHERE coop = $1",
            &[&coop_id],
        )
        .await?
        .get(0);
    if over(coop, quotas.coop_bytes) {
        return Err(RelayError::QuotaExceeded(
            "the coop's storage quota on the relay is full",
        ));
    }
    Ok(())
}

/// One push inside the caller's transaction (a savepoint of the batch), numbering its
/// entries after `seq`, which it advances. The coop's `log_ends` row is already locked.
async fn push_docs(
    tx: &deadpool_postgres::Transaction<'_>,
    seq: &mut i64,
    coop_id: &str,
    device_id: &str,
    docs: &[CheckedDoc],
    quotas: Quotas,
) -> Result<PushResponse, RelayError> {
    // The log end was taken first: this push may have waited for other writers of the
    // coop, and a revocation committed meanwhile (a stolen phone, revoked while its upload
    // was in flight) must win. Read Committed: this statement sees it.
    let revoked = tx
        .query_opt("SELECT revoked FROM devices WHERE id = $1", &[&device_id])
        .await?
        .map(|r| r.get::<_, bool>(0));
    if revoked == Some(true) {
        return Err(RelayError::Revoked);
    }
    let mut out = PushResponse::default();
    let mut added_bytes: i64 = 0;
    let mut freed: HashMap<String, i64> = HashMap::new();
    let is_deleted = tx
        .prepare_cached("SELECT 1 FROM erased_docs WHERE coop = $1 AND doc_hash = $2")
        .await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO log (coop, seq, scope, doc, kind, content_id, key, device, data)
             VALUES ($1, $2, $3, $4, 'blob', $5, $6, $7, $8)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let remove = tx
        .prepare_cached(
            "DELETE FROM log WHERE coop = $1 AND doc = $2 AND content_id = $3
             AND kind = 'blob' AND ($4 OR device = $5
                 OR ($6 AND substring(data from 1 for 1) IS DISTINCT FROM $7
                     AND device IN (SELECT id FROM devices
                                    WHERE coop = $1 AND revoked AND public_keys IS NULL)))
             RETURNING coalesce(device, ''), length(data)",
        )
        .await?;
    let sealed_byte = vec![super::SEALED_FIRST_BYTE];
    for doc in docs {
        let hash = doc_hash(&doc.doc);
        if tx
            .query_opt(&is_deleted, &[&coop_id, &hash.as_slice()])
            .await?
            .is_some()
        {
            out.discarded += doc.blobs.len() as u32;
            continue;
        }
        for (content_id, bytes) in &doc.blobs {
            let added = tx
                .execute(
                    &insert,
                    &[
                        &coop_id,
                        &(*seq + 1),
                        &doc.scope,
                        &doc.doc,
                        content_id,
                        &doc.key,
                        &device_id,
                        bytes,
                    ],
                )
                .await?;
            if added == 1 {
                *seq += 1;
                out.stored += 1;
                added_bytes += bytes.len() as i64;
            } else {
                out.duplicates += 1;
            }
        }
        for old in &doc.supersedes {
            if doc.blobs.iter().any(|(id, _)| id == old) {
                continue;
            }
            for row in tx
                .query(
                    &remove,
                    &[
                        &coop_id,
                        &doc.doc,
                        old,
                        &doc.supersede_any,
                        &device_id,
                        &doc.supersede_orphans,
                        &sealed_byte,
                    ],
                )
                .await?
            {
                let owner: String = row.get(0);
                let len: Option<i32> = row.get(1);
                *freed.entry(owner).or_default() += i64::from(len.unwrap_or(0));
            }
        }
    }
    // Every blob of this push (stored now or held already) is at or below the log's end.
    out.last_seq = Some((*seq).max(0) as u64);
    let own_freed = freed.remove(device_id).unwrap_or(0);
    add_usage(tx, coop_id, device_id, added_bytes - own_freed).await?;
    let mut owners: Vec<_> = freed.iter().collect();
    owners.sort();
    for (owner, bytes) in owners {
        add_usage(tx, coop_id, owner, -bytes).await?;
    }
    if added_bytes > own_freed + freed.values().sum::<i64>() {
        check_quotas(tx, coop_id, device_id, quotas).await?;
    }
    Ok(out)
}

impl PgStore {
    /// Commits `batch` in one transaction: the log ends of its coops are locked in coop
    /// order, then each push runs in its own savepoint. The outer error means nothing of
    /// the batch was committed.
    async fn commit_pushes(
        &self,
        batch: &[Arc<PushJob>],
    ) -> Result<Vec<Result<PushResponse, RelayError>>, RelayError> {
        let mut client = self.pool.get().await?;
        let mut tx = client.transaction().await?;
        let mut coops: Vec<&str> = batch.iter().map(|j| j.coop_id.as_str()).collect();
        coops.sort_unstable();
        coops.dedup();
        let mut ends: HashMap<&str, (i64, i64)> = HashMap::with_capacity(coops.len());
        for coop in coops {
            let end = take_log_end(&tx, coop).await?;
            ends.insert(coop, (end, end));
        }
        let mut results = Vec::with_capacity(batch.len());
        for job in batch {
            let Some(&(taken, before)) = ends.get(job.coop_id.as_str()) else {
                return Err(RelayError::Task);
            };
            let mut seq = before;
            let savepoint = tx.transaction().await?;
            let pushed = push_docs(
                &savepoint,
                &mut seq,
                &job.coop_id,
                &job.device_id,
                &job.docs,
                self.quotas,
            )
            .await;
            match pushed {
                Ok(out) => {
                    savepoint.commit().await?;
                    ends.insert(job.coop_id.as_str(), (taken, seq));
                    results.push(Ok(out));
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    results.push(Err(e));
                }
            }
        }
        for (coop, (taken, end)) in ends {
            if end != taken {
                set_log_end(&tx, coop, end).await?;
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn pull_async(
        &self,
        coop_id: &str,
        filter: &ReadFilter,
        after: u64,
        own: Option<(&str, u64)>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<PullResponse, RelayError> {
        let (condition, scopes) = match filter {
            ReadFilter::AllButNotes { notes } => {
                ("(left(scope, 6) <> 'notes:' OR scope = ANY($4))", notes)
            }
            ReadFilter::Only(scopes) => ("scope = ANY($4)", scopes),
        };
        // One statement, so one snapshot: the entries, the coop's log end and its keys
        // epoch agree. The subqueries in the select list run once (init plans). The
        // left join yields one row (with NULL entry columns) when nothing is new.
        let sql = format!(
            "SELECT (SELECT seq FROM log_ends WHERE coop = $1),
                    (SELECT epoch FROM keys_epochs WHERE coop = $1),
                    e.seq, e.doc, e.kind, e.key, e.data
             FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                 SELECT seq, doc, kind, key, data FROM log
                 WHERE coop = $1 AND seq > $2 AND {condition}
                 AND NOT coalesce(device = $5 AND seq <= $6, false)
                 ORDER BY seq LIMIT $3
             ) AS e ON true
             ORDER BY e.seq"
        );
        let after_i = i64::try_from(after).unwrap_or(i64::MAX);
        let limit_i = i64::from(limit);
        // The puller's own blobs up to `own_through` stay out (it has them); tombstones
        // (no device) are never its own.
        let (own_device, own_through): (Option<&str>, i64) = match own {
            Some((device, through)) => (Some(device), i64::try_from(through).unwrap_or(i64::MAX)),
            None => (None, 0),
        };
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client
            .query(
                &stmt,
                &[
                    &coop_id,
                    &after_i,
                    &limit_i,
                    scopes,
                    &own_device,
                    &own_through,
                ],
            )
            .await?;
        let mut page = PageBuilder::new(after, limit, max_bytes);
        let mut end: i64 = 0;
        let mut epoch: i64 = 0;
        for (i, row) in rows.into_iter().enumerate() {
            if i == 0 {
                end = row.get::<_, Option<i64>>(0).unwrap_or(0);
                epoch = row.get::<_, Option<i64>>(1).unwrap_or(0);
            }
            let Some(seq) = row.get::<_, Option<i64>>(2) else {
                continue;
            };
            let kind: String = row.get(4);
            if !page.add(seq, row.get(3), &kind, row.get(5), row.get(6)) {
                break;
            }
        }
        let out = page.finish(epoch.max(0) as u64, || Ok(end))?;
        Ok(out)
    }

    async fn delete_doc_async(
        &self,
        coop_id: &str,
        doc: &str,
        scope: &str,
        tags: &[String],
        now: i64,
    ) -> Result<(), RelayError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Taken first: erasures and pushes of a coop queue on the same row.
        let seq = take_log_end(&tx, coop_id).await?;
        let hash = doc_hash(doc);
        let newly = tx
            .execute(
                "INSERT INTO erased_docs (coop, doc_hash, deleted_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&coop_id, &hash.as_slice(), &now],
            )
            .await?;
        if newly == 0 {
            tx.commit().await?;
            return Ok(());
        }
        let mut freed: HashMap<String, i64> = HashMap::new();
        for row in tx
            .query(
                "DELETE FROM log WHERE coop = $1 AND doc = $2
                 RETURNING coalesce(device, ''), length(data)",
                &[&coop_id, &doc],
            )
            .await?
        {
            let len: Option<i32> = row.get(1);
            *freed.entry(row.get(0)).or_default() += i64::from(len.unwrap_or(0));
        }
        let mut owners: Vec<_> = freed.into_iter().collect();
        owners.sort();
        for (owner, bytes) in owners {
            add_usage(&tx, coop_id, &owner, -bytes).await?;
        }
        tx.execute(
            "INSERT INTO log (coop, seq, scope, doc, kind) VALUES ($1, $2, $3, $4, 'tombstone')",
            &[
                &coop_id,
                &(seq + 1),
                &scope,
                &super::tombstone_entry(doc, scope, tags),
            ],
        )
        .await?;
        set_log_end(&tx, coop_id, seq + 1).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl RelayStore for PgStore {
    fn create_coop(&self, coop_id: &str, name: &str, now: i64) -> Result<(), RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO coops (id, name, created_at) VALUES ($1, $2, $3)",
                &[&coop_id, &name, &now],
            )
            .await?;
            tx.execute(
                "INSERT INTO log_ends (coop, seq) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                &[&coop_id],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn coop_exists(&self, coop_id: &str) -> Result<bool, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_opt("SELECT 1 FROM coops WHERE id = $1", &[&coop_id])
                .await?
                .is_some())
        })
    }

    fn add_join_code(
        &self,
        coop_id: &str,
        grant: &Grant,
        code_hash: &Hash,
        expires_at: i64,
        now: i64,
    ) -> Result<(), RelayError> {
        let grant_json = grant_to_json(grant)?;
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute("DELETE FROM join_codes WHERE expires_at <= $1", &[&now])
                .await?;
            tx.execute(
                "INSERT INTO join_codes (code_hash, coop, grant_json, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &code_hash.as_slice(),
                    &coop_id,
                    &grant_json,
                    &now,
                    &expires_at,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn redeem_join_code(
        &self,
        code_hash: &Hash,
        device: NewDevice<'_>,
        now: i64,
    ) -> Result<Option<Joined>, RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // FOR UPDATE: of two devices racing for one code, the second waits and then
            // finds it used (the row is checked again after the wait).
            let Some(row) = tx
                .query_opt(
                    "SELECT j.coop, c.name, j.grant_json, j.key_envelope FROM join_codes j
                     JOIN coops c ON c.id = j.coop
                     WHERE j.code_hash = $1 AND j.used_at IS NULL AND j.expires_at > $2
                     FOR UPDATE OF j",
                    &[&code_hash.as_slice(), &now],
                )
                .await?
            else {
                return Ok(None);
            };
            let coop_id: String = row.get(0);
            let coop_name: String = row.get(1);
            let grant_json: String = row.get(2);
            let key_envelope: Option<Vec<u8>> = row.get(3);
            let grant = grant_from_json(&grant_json)?;
            tx.execute(
                "UPDATE join_codes SET used_at = $2, key_envelope = NULL WHERE code_hash = $1",
                &[&code_hash.as_slice(), &now],
            )
            .await?;
            tx.execute(
                "INSERT INTO devices (id, coop, name, grant_json, token_hash, created_at,
                                      last_seen_at, acked)
                 VALUES ($1, $2, $3, $4, $5, $6, $6,
                         coalesce((SELECT seq FROM log_ends WHERE coop = $2), 0))",
                &[
                    &device.device_id,
                    &coop_id,
                    &device.name,
                    &grant_json,
                    &device.token_hash.as_slice(),
                    &now,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(Some(Joined {
                coop_id,
                coop_name,
                grant,
                key_envelope,
            }))
        })
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceRecord>, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT d.coop, c.name, d.grant_json, d.token_hash, d.last_seen_at,
                            d.revoked, d.public_keys
                     FROM devices d JOIN coops c ON c.id = d.coop WHERE d.id = $1",
                )
                .await?;
            let Some(r) = client.query_opt(&stmt, &[&device_id]).await? else {
                return Ok(None);
            };
            Ok(Some(DeviceRecord {
                device_id: device_id.to_string(),
                coop_id: r.get(0),
                coop_name: r.get(1),
                grant: grant_from_json(r.get(2))?,
                token_hash: r.get(3),
                last_seen_at: r.get(4),
                revoked: r.get(5),
                public_keys: r.get(6),
            }))
        })
    }

    fn touch_device(&self, device_id: &str, now: i64) -> Result<(), RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let stmt = client
                .prepare_cached("UPDATE devices SET last_seen_at = $2 WHERE id = $1")
                .await?;
            client.execute(&stmt, &[&device_id, &now]).await?;
            Ok(())
        })
    }

    fn list_devices(&self, coop_id: &str) -> Result<Vec<DeviceInfo>, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "SELECT id, name, grant_json, created_at, last_seen_at, revoked
                     FROM devices WHERE coop = $1 ORDER BY created_at, id",
                    &[&coop_id],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DeviceInfo {
                        device_id: r.get(0),
                        name: r.get(1),
                        grant: grant_from_json(r.get(2))?,
                        created_at: r.get(3),
                        last_seen_at: r.get(4),
                        revoked: r.get(5),
                    })
                })
                .collect()
        })
    }

    fn revoke_device(&self, coop_id: Option<&str>, device_id: &str) -> Result<(), RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    "UPDATE devices SET revoked = true
                     WHERE id = $1 AND ($2::TEXT IS NULL OR coop = $2) RETURNING coop",
                    &[&device_id, &coop_id],
                )
                .await?
            else {
                return Err(RelayError::NotFound("no such device"));
            };
            let coop: String = row.get(0);
            bump_keys_epoch(&tx, &coop).await?;
            tx.execute(
                "DELETE FROM join_codes WHERE created_by = $1 AND used_at IS NULL",
                &[&device_id],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_consent(
        &self,
        coop_id: &str,
        person: &str,
        coordinator_notes: bool,
        now: i64,
    ) -> Result<(), RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO consents (coop, person, coordinator_notes, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (coop, person) DO UPDATE
                 SET coordinator_notes = excluded.coordinator_notes,
                     updated_at = excluded.updated_at",
                &[&coop_id, &person, &coordinator_notes, &now],
            )
            .await?;
            // A key event, as on SQLite: the person's other devices learn it.
            bump_keys_epoch(&tx, coop_id).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn consented_people(&self, coop_id: &str) -> Result<Vec<String>, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT person FROM consents WHERE coop = $1 AND coordinator_notes
                     ORDER BY person COLLATE \"C\"",
                )
                .await?;
            Ok(client
                .query(&stmt, &[&coop_id])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn push(
        &self,
        coop_id: &str,
        device_id: &str,
        docs: Vec<CheckedDoc>,
    ) -> Result<PushResponse, RelayError> {
        // Group commit: queue the push, then take the committer. Whoever holds it commits
        // every queued push in one transaction and hands each its result before letting
        // go, so a push that finds its result ready is committed.
        let job = Arc::new(PushJob {
            coop_id: coop_id.to_string(),
            device_id: device_id.to_string(),
            docs,
            result: Mutex::new(None),
        });
        lock(&self.pending).push(job.clone());
        let committer = lock(&self.committer);
        if let Some(done) = lock(&job.result).take() {
            return done;
        }
        let batch = std::mem::take(&mut *lock(&self.pending));
        match self.block(self.commit_pushes(&batch)) {
            Ok(results) => {
                for (j, r) in batch.iter().zip(results) {
                    *lock(&j.result) = Some(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for j in &batch {
                    *lock(&j.result) = Some(Err(RelayError::Postgres(msg.clone())));
                }
            }
        }
        drop(committer);
        lock(&job.result).take().unwrap_or(Err(RelayError::Task))
    }

    fn pull(
        &self,
        coop_id: &str,
        filter: &ReadFilter,
        after: u64,
        own: Option<(&str, u64)>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<PullResponse, RelayError> {
        self.block(self.pull_async(coop_id, filter, after, own, limit, max_bytes))
    }

    fn delete_doc(
        &self,
        coop_id: &str,
        doc: &str,
        scope: &str,
        tags: &[String],
        now: i64,
    ) -> Result<(), RelayError> {
        self.block(self.delete_doc_async(coop_id, doc, scope, tags, now))
    }

    fn sealed_only(&self, coop_id: &str) -> Result<bool, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_opt(
                    "SELECT 1 FROM relay_meta WHERE key = $1",
                    &[&super::sealed_only_key(coop_id)],
                )
                .await?
                .is_some())
        })
    }

    fn set_sealed_only(&self, coop_id: &str) -> Result<super::PlaintextLeft, RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // Serialised with this coop's key registrations.
            lock_coop_keys(&tx, coop_id).await?;
            let keyless: i64 = tx
                .query_one(
                    "SELECT count(*) FROM devices
                     WHERE coop = $1 AND NOT revoked AND public_keys IS NULL",
                    &[&coop_id],
                )
                .await?
                .get(0);
            let sealed = vec![super::SEALED_FIRST_BYTE];
            let plaintext: i64 = tx
                .query_one(
                    "SELECT count(*) FROM log WHERE coop = $1 AND kind = 'blob'
                     AND substring(data from 1 for 1) IS DISTINCT FROM $2",
                    &[&coop_id, &sealed],
                )
                .await?
                .get(0);
            let left = super::PlaintextLeft {
                keyless_devices: keyless.max(0) as u64,
                plaintext_blobs: plaintext.max(0) as u64,
            };
            if left.is_empty()
                && tx
                    .execute(
                        "INSERT INTO relay_meta (key, value) VALUES ($1, '1')
                         ON CONFLICT (key) DO NOTHING",
                        &[&super::sealed_only_key(coop_id)],
                    )
                    .await?
                    == 1
            {
                // A key event: devices learn from their next pull to stop trusting on
                // first use.
                bump_keys_epoch(&tx, coop_id).await?;
            }
            tx.commit().await?;
            Ok(left)
        })
    }

    fn own_plaintext(
        &self,
        coop_id: &str,
        device_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<super::PlaintextDoc>, bool), RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let sealed = vec![super::SEALED_FIRST_BYTE];
            // Whole documents: read the next `limit + 1` documents' rows (the extra one
            // says whether more follow); the byte bound is applied while grouping.
            let rows = client
                .query(
                    "WITH docs AS (
                       SELECT DISTINCT doc COLLATE \"C\" AS doc FROM log
                       WHERE coop = $1 AND device = $2 AND kind = 'blob'
                       AND doc COLLATE \"C\" > $3
                       AND substring(data from 1 for 1) IS DISTINCT FROM $4
                       ORDER BY 1 LIMIT $5)
                     SELECT l.doc, l.content_id, l.data FROM log l JOIN docs ON docs.doc = l.doc
                     WHERE l.coop = $1 AND l.device = $2 AND l.kind = 'blob'
                     AND substring(l.data from 1 for 1) IS DISTINCT FROM $4
                     ORDER BY l.doc COLLATE \"C\", l.seq",
                    &[
                        &coop_id,
                        &device_id,
                        &after.unwrap_or(""),
                        &sealed,
                        &(i64::from(limit) + 1),
                    ],
                )
                .await?;
            Ok(plaintext_page(&rows, limit, max_bytes))
        })
    }

    fn orphaned_plaintext(
        &self,
        coop_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<super::PlaintextDoc>, bool), RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let sealed = vec![super::SEALED_FIRST_BYTE];
            let rows = client
                .query(
                    "WITH docs AS (
                       SELECT DISTINCT l.doc COLLATE \"C\" AS doc
                       FROM log l JOIN devices d ON d.id = l.device
                       WHERE l.coop = $1 AND l.kind = 'blob' AND l.doc COLLATE \"C\" > $2
                       AND d.revoked AND d.public_keys IS NULL
                       AND substring(l.data from 1 for 1) IS DISTINCT FROM $3
                       ORDER BY 1 LIMIT $4)
                     SELECT l.doc, l.content_id, l.data
                     FROM log l JOIN docs ON docs.doc = l.doc JOIN devices d ON d.id = l.device
                     WHERE l.coop = $1 AND l.kind = 'blob'
                     AND d.revoked AND d.public_keys IS NULL
                     AND substring(l.data from 1 for 1) IS DISTINCT FROM $3
                     ORDER BY l.doc COLLATE \"C\", l.seq",
                    &[
                        &coop_id,
                        &after.unwrap_or(""),
                        &sealed,
                        &(i64::from(limit) + 1),
                    ],
                )
                .await?;
            Ok(plaintext_page(&rows, limit, max_bytes))
        })
    }

    fn custody_allowed(
        &self,
        coop_id: &str,
        doc: &str,
        owner: &str,
        device_id: &str,
    ) -> Result<bool, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let blocked: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM relay_meta WHERE key = $1)
                     OR EXISTS (SELECT 1 FROM devices
                                WHERE coop = $2 AND key_id = $3 AND NOT revoked)",
                    &[&super::sealed_only_key(coop_id), &coop_id, &owner],
                )
                .await?
                .get(0);
            if blocked {
                return Ok(false);
            }
            let row = client
                .query_one(
                    "SELECT
                       count(*) FILTER (WHERE d.revoked AND d.public_keys IS NULL),
                       count(*) FILTER (WHERE d.id IS NULL OR NOT (d.revoked AND d.public_keys IS NULL))
                     FROM log l LEFT JOIN devices d ON d.id = l.device
                     WHERE l.coop = $1 AND l.doc = $2 AND l.kind = 'blob'
                     AND coalesce(l.device, '') <> $3",
                    &[&coop_id, &doc, &device_id],
                )
                .await?;
            let (orphaned, others): (i64, i64) = (row.get(0), row.get(1));
            Ok(orphaned > 0 && others == 0)
        })
    }

    fn log_generation(&self) -> Result<Option<String>, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_opt(
                    "SELECT value FROM relay_meta WHERE key = 'log_generation'",
                    &[],
                )
                .await?
                .map(|r| r.get(0)))
        })
    }

    fn new_log_generation(&self) -> Result<String, RelayError> {
        let generation = super::new_generation_id();
        self.block(async {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO relay_meta (key, value) VALUES ('log_generation', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&generation],
                )
                .await?;
            Ok::<_, RelayError>(())
        })?;
        Ok(generation)
    }

    fn ack_cursor(&self, device_id: &str, cursor: u64) {
        let mut acks = lock(&self.acks);
        let acked = acks.entry(device_id.to_string()).or_default();
        *acked = (*acked).max(cursor);
    }

    fn sweep_tombstones(&self) -> Result<usize, RelayError> {
        let mut acks: Vec<(String, u64)> =
            std::mem::take(&mut *lock(&self.acks)).into_iter().collect();
        // One order for every process: concurrent sweeps never deadlock on device rows.
        acks.sort();
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let update = tx
                .prepare_cached("UPDATE devices SET acked = greatest(acked, $2) WHERE id = $1")
                .await?;
            for (device, cursor) in &acks {
                let cursor = i64::try_from(*cursor).unwrap_or(i64::MAX);
                tx.execute(&update, &[device, &cursor]).await?;
            }
            let swept = tx
                .execute(
                    "DELETE FROM log WHERE kind = 'tombstone' AND seq <= (
                         SELECT min(d.acked) FROM devices d
                         WHERE d.coop = log.coop AND NOT d.revoked)",
                    &[],
                )
                .await?;
            tx.commit().await?;
            Ok(swept as usize)
        })
    }

    fn set_join_code_creator(&self, code_hash: &Hash, device_id: &str) -> Result<(), RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            client
                .execute(
                    "UPDATE join_codes SET created_by = $2 WHERE code_hash = $1",
                    &[&code_hash.as_slice(), &device_id],
                )
                .await?;
            Ok(())
        })
    }

    fn set_invite_envelope(
        &self,
        coop_id: &str,
        code_hash: &Hash,
        envelope: &[u8],
        now: i64,
    ) -> Result<bool, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let changed = client
                .execute(
                    "UPDATE join_codes SET key_envelope = $3
                     WHERE code_hash = $1 AND coop = $2 AND used_at IS NULL AND expires_at > $4",
                    &[&code_hash.as_slice(), &coop_id, &envelope, &now],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    fn set_device_keys(
        &self,
        coop_id: &str,
        device_id: &str,
        key_id: &str,
        fingerprint: &[u8],
        public_keys: &[u8],
        proof: Option<&[u8]>,
    ) -> Result<KeysSet, RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_coop_keys(&tx, coop_id).await?;
            let current: Option<Vec<u8>> = tx
                .query_opt(
                    "SELECT public_keys FROM devices WHERE id = $1 AND coop = $2 FOR UPDATE",
                    &[&device_id, &coop_id],
                )
                .await?
                .ok_or(RelayError::NotFound("no such device"))?
                .get(0);
            if let Some(current) = current {
                return Ok(if current == public_keys {
                    KeysSet::AlreadySet
                } else {
                    KeysSet::Conflict
                });
            }
            let taken = tx
                .query_opt(
                    "SELECT 1 FROM devices WHERE coop = $1 AND key_id = $2
                     AND key_fingerprint <> $3",
                    &[&coop_id, &key_id, &fingerprint],
                )
                .await?
                .is_some();
            if taken {
                return Ok(KeysSet::Conflict);
            }
            tx.execute(
                "UPDATE devices SET public_keys = $2, key_id = $3, join_proof = $4,
                                    key_fingerprint = $5
                 WHERE id = $1",
                &[&device_id, &public_keys, &key_id, &proof, &fingerprint],
            )
            .await?;
            bump_keys_epoch(&tx, coop_id).await?;
            tx.commit().await?;
            Ok(KeysSet::Stored)
        })
    }

    fn device_keys(&self, coop_id: &str, recipient: &str) -> Result<KeysListing, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            // Read before the listing, in its own statement: an event in between only
            // makes the device run one more round, never miss one.
            let epoch: i64 = client
                .query_opt("SELECT epoch FROM keys_epochs WHERE coop = $1", &[&coop_id])
                .await?
                .map(|r| r.get(0))
                .unwrap_or(0);
            let mut devices: Vec<DeviceKeysRow> = client
                .query(
                    "SELECT id, public_keys, join_proof, revoked FROM devices
                     WHERE coop = $1 AND public_keys IS NOT NULL ORDER BY created_at, id",
                    &[&coop_id],
                )
                .await?
                .iter()
                .map(|r| DeviceKeysRow {
                    device_id: r.get(0),
                    public_keys: r.get(1),
                    proof: r.get(2),
                    certificates: Vec::new(),
                    revoked: r.get(3),
                })
                .collect();
            let certs = client
                .prepare_cached("SELECT data FROM certificates WHERE device = $1")
                .await?;
            for d in &mut devices {
                d.certificates = client
                    .query(&certs, &[&d.device_id])
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
            }
            let wrapped = client
                .query(
                    "SELECT data FROM wrapped_keys WHERE recipient = $1 ORDER BY id",
                    &[&recipient],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(KeysListing {
                devices,
                wrapped,
                epoch: epoch.max(0) as u64,
            })
        })
    }

    fn ack_wrapped(&self, recipient: &str, hashes: &[Vec<u8>]) -> Result<usize, RelayError> {
        self.block(async {
            let client = self.pool.get().await?;
            let del = client
                .prepare_cached("DELETE FROM wrapped_keys WHERE recipient = $1 AND hash = $2")
                .await?;
            let mut gone = 0;
            for h in hashes {
                gone += client.execute(&del, &[&recipient, &h.as_slice()]).await?;
            }
            Ok(usize::try_from(gone).unwrap_or(usize::MAX))
        })
    }

    fn deliver_keys(
        &self,
        coop_id: &str,
        wrapped: &[(String, Vec<u8>)],
        certificates: &[(String, Vec<u8>)],
    ) -> Result<(), RelayError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let of_coop = tx
                .prepare_cached("SELECT 1 FROM devices WHERE id = $1 AND coop = $2")
                .await?;
            for (device, _) in wrapped.iter().chain(certificates) {
                if tx.query_opt(&of_coop, &[device, &coop_id]).await?.is_none() {
                    return Err(RelayError::NotFound("no such device"));
                }
            }
            let put_wrapped = tx
                .prepare_cached(
                    "INSERT INTO wrapped_keys (recipient, hash, data) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            for (to, bytes) in wrapped {
                let hash = crate::credentials::sha256(bytes);
                tx.execute(&put_wrapped, &[to, &hash.as_slice(), bytes])
                    .await?;
            }
            let put_cert = tx
                .prepare_cached(
                    "INSERT INTO certificates (device, hash, data) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            for (device, bytes) in certificates {
                let hash = crate::credentials::sha256(bytes);
                tx.execute(&put_cert, &[device, &hash.as_slice(), bytes])
                    .await?;
            }
            if !wrapped.is_empty() || !certificates.is_empty() {
                bump_keys_epoch(&tx, coop_id).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
