//! Helpers shared by the relay's HTTP tests: a relay on a loopback port with a fresh coop,
//! and a small client that speaks the wire protocol (JSON control bodies, CBOR bulk).
#![allow(dead_code)]

use logbook_protocol::{
    self as proto, Grant, JoinResponse, PullResponse, PushDoc, PushRequest, PushResponse, Role,
};
use logbook_relay::store::{Database, PgTarget};
use logbook_relay::{Limits, RelayConfig, RunningRelay, admin};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use std::net::SocketAddr;

pub struct TestRelay {
    pub relay: RunningRelay,
    /// A scratch directory; with SQLite it is the relay's data directory.
    pub dir: tempfile::TempDir,
    /// The relay's store: SQLite in `dir`, or a fresh PostgreSQL schema (see
    /// [`postgres_url`]).
    pub db: Database,
    pub coop_id: String,
    pub coordinator_code: String,
    pub http: reqwest::Client,
}

/// With `LOGBOOK_TEST_POSTGRES=postgres://...` set, every relay of the suite keeps its
/// data in a schema of its own on that server instead of a SQLite file, so one suite
/// checks both backends (scripts/setup-postgres.sh starts a throwaway server).
pub fn postgres_url() -> Option<String> {
    std::env::var("LOGBOOK_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A fresh store for a test: a new PostgreSQL schema if [`postgres_url`] is set, else
/// the SQLite file in `dir`.
pub fn fresh_database(dir: &std::path::Path) -> Database {
    match postgres_url() {
        Some(url) => {
            let schema = format!("t_{}", hex_id());
            logbook_relay::store::postgres::create_schema(&url, &schema).expect("create schema");
            Database::Postgres(PgTarget {
                url,
                schema: Some(schema),
            })
        }
        None => Database::Sqlite(dir.to_path_buf()),
    }
}

fn hex_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// A relay configuration for `db`, listening on `addr`.
pub fn config_for(db: &Database, dir: &std::path::Path, addr: SocketAddr) -> RelayConfig {
    let mut config = RelayConfig::new(dir, addr);
    if let Database::Postgres(target) = db {
        config.postgres = Some(target.clone());
    }
    config
}

/// For tests that look inside the SQLite file (WAL contents, SQLite locks): true, with a
/// note on stderr, when the suite runs against PostgreSQL, where they do not apply.
pub fn sqlite_only(test: &str) -> bool {
    if postgres_url().is_some() {
        eprintln!("{test}: SQLite-specific, skipped against PostgreSQL");
        return true;
    }
    false
}

pub async fn start_relay() -> TestRelay {
    start_relay_with(Limits::default()).await
}

/// A relay with these timeouts, connection cap, rate limits and quotas.
pub async fn start_relay_with(limits: Limits) -> TestRelay {
    start_relay_configured(|c| c.limits = limits).await
}

/// A relay whose configuration `configure` changed first.
pub async fn start_relay_configured(configure: impl FnOnce(&mut RelayConfig)) -> TestRelay {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh_database(dir.path());
    let created = admin::create_coop(&db, "Test Bakery").expect("create coop");
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let mut config = config_for(&db, dir.path(), addr);
    configure(&mut config);
    let relay = logbook_relay::start(config).await.expect("start relay");
    TestRelay {
        relay,
        dir,
        db,
        coop_id: created.coop_id,
        coordinator_code: created.coordinator_code,
        http: reqwest::Client::new(),
    }
}

pub fn grant(role: Role, person: Option<&str>, site: Option<&str>, supports: &[&str]) -> Grant {
    Grant {
        role,
        person: person.map(str::to_string),
        site: site.map(str::to_string),
        supports: supports.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn blob(bytes: &[u8]) -> serde_bytes::ByteBuf {
    serde_bytes::ByteBuf::from(bytes.to_vec())
}

pub fn push_doc(doc: &str, blobs: &[&[u8]]) -> PushDoc {
    PushDoc {
        doc: doc.to_string(),
        blobs: blobs.iter().map(|b| blob(b)).collect(),
        supersedes: vec![],
        key: None,
    }
}

/// A device's view of the relay.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub device_id: String,
}

impl TestRelay {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.relay.url())
    }

    /// A configuration for another relay on this one's store.
    pub fn config(&self, addr: SocketAddr) -> RelayConfig {
        config_for(&self.db, self.dir.path(), addr)
    }

    /// `SELECT count(*) ...` straight from the store, on either backend. `sql` names its
    /// one parameter `$1` (both SQLite and PostgreSQL accept that).
    pub async fn count(&self, sql: &str, arg: &str) -> i64 {
        match &self.db {
            Database::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.join("relay.sqlite3")).expect("open db");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("busy timeout");
                conn.query_row(sql, [arg], |r| r.get(0)).expect("count")
            }
            Database::Postgres(target) => {
                let client = pg_connect(target).await;
                let row = client.query_one(sql, &[&arg]).await.expect("count");
                row.get(0)
            }
        }
    }

    /// The log rows of a document as (kind, data), on either backend.
    pub async fn log_rows(&self, doc: &str) -> Vec<(String, Option<Vec<u8>>)> {
        let sql = "SELECT kind, data FROM log WHERE doc = $1 ORDER BY seq";
        match &self.db {
            Database::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.join("relay.sqlite3")).expect("open db");
                conn.prepare(sql)
                    .expect("prepare")
                    .query_map([doc], |r| Ok((r.get(0)?, r.get(1)?)))
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Database::Postgres(target) => pg_connect(target)
                .await
                .query(sql, &[&doc])
                .await
                .expect("rows")
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }

    pub async fn join(&self, code: &str, name: &str) -> Client {
        join_at(&self.http, &self.relay.url(), code, name).await
    }

    pub async fn coordinator(&self) -> Client {
        self.join(&self.coordinator_code, "office laptop").await
    }

    /// A coordinator invites a device with `grant`, and the device joins.
    pub async fn device(&self, coordinator: &Client, grant: &Grant) -> Client {
        let code = coordinator.invite(grant).await;
        self.join(&code, "phone").await
    }
}

/// Redeems a join code at the relay at `base`.
pub async fn join_at(http: &reqwest::Client, base: &str, code: &str, name: &str) -> Client {
    let (status, body) = post_json(
        http,
        &format!("{base}/v1/join"),
        None,
        &json!({"code": code, "device_name": name}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "join failed: {body}");
    let joined: JoinResponse = serde_json::from_value(body).expect("join response");
    Client {
        http: http.clone(),
        base: base.to_string(),
        token: joined.token,
        device_id: joined.device_id,
    }
}

/// Sends a request and reads its JSON answer (`Null` for an empty or non-JSON body).
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("request");
    let status = res.status();
    let bytes = res.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).expect("json"));
    if let Some(t) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    send(req).await
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        post_json(&self.http, &self.url(path), Some(&self.token), body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        send(
            self.http
                .put(self.url(path))
                .header(AUTHORIZATION, format!("Bearer {}", self.token))
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("json")),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(
            self.http
                .get(self.url(path))
                .header(AUTHORIZATION, format!("Bearer {}", self.token)),
        )
        .await
    }

    pub async fn invite(&self, grant: &Grant) -> String {
        let (status, body) = self
            .post(
                "/v1/invites",
                &serde_json::to_value(proto::InviteRequest {
                    grant: grant.clone(),
                    expires_in_hours: None,
                })
                .expect("json"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "invite failed: {body}");
        body["code"].as_str().expect("code").to_string()
    }

    /// Pushes raw bytes with a content type; returns status and raw body.
    pub async fn push_raw(&self, content_type: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let res = self
            .http
            .post(self.url("/v1/push"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.bytes().await.expect("body").to_vec())
    }

    pub async fn try_push(&self, docs: Vec<PushDoc>) -> Result<PushResponse, StatusCode> {
        let (status, body) = self
            .push_raw(
                proto::CBOR_MEDIA_TYPE,
                proto::to_cbor(&PushRequest { docs }),
            )
            .await;
        if status == StatusCode::OK {
            Ok(proto::from_cbor(&body).expect("push response"))
        } else {
            Err(status)
        }
    }

    pub async fn push(&self, docs: Vec<PushDoc>) -> PushResponse {
        self.try_push(docs).await.expect("push accepted")
    }

    pub async fn try_pull_query(&self, query: &str) -> Result<PullResponse, StatusCode> {
        let res = self
            .http
            .get(self.url(&format!("/v1/pull?{query}")))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .send()
            .await
            .expect("request");
        let status = res.status();
        if status != StatusCode::OK {
            return Err(status);
        }
        let bytes = res.bytes().await.expect("body");
        Ok(proto::from_cbor(&bytes).expect("pull response"))
    }

    pub async fn pull(&self, after: u64) -> PullResponse {
        self.try_pull_query(&format!("after={after}"))
            .await
            .expect("pull accepted")
    }

    /// Every blob this device can read from the start, as (doc, bytes) pairs.
    pub async fn pull_all(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.pull(after).await;
            for d in page.docs {
                for b in d.blobs {
                    out.push((d.doc.clone(), b.into_vec()));
                }
            }
            after = page.next;
            if !page.more {
                return out;
            }
        }
    }

    pub async fn docs_readable(&self) -> Vec<String> {
        let mut docs: Vec<String> = self.pull_all().await.into_iter().map(|(d, _)| d).collect();
        docs.sort();
        docs.dedup();
        docs
    }

    pub async fn delete_doc(&self, doc: &str) -> StatusCode {
        self.post("/v1/docs/delete", &json!({ "doc": doc })).await.0
    }
}

/// A plain connection to a test's PostgreSQL schema (for looking inside the store).
pub async fn pg_connect(target: &PgTarget) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = target.url.parse().expect("postgres url");
    if let Some(schema) = &target.schema {
        config.options(format!("-c search_path={schema}"));
    }
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to postgres");
    tokio::spawn(conn);
    client
}
