//! The sync client: join a relay with a one-time code, then push what the relay has not
//! acknowledged and pull what this device may read after its cursor.
//!
//! Crash safety: pushed changes leave the outbox only after the relay acknowledged them
//! (a re-push after a crash is a no-op at the relay: same content id), and each pulled
//! page is merged and its cursor saved in one local transaction. Killing the process at
//! any point therefore loses nothing and duplicates nothing. No database transaction is
//! held across an `await`, so cancelling a sync (dropping its future) is safe too.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use logbook_protocol as proto;
use logbook_protocol::{Grant, Role, Scope};
use rusqlite::params;
use serde::Serialize;

use crate::db;
use crate::docs;
use crate::error::{Error, Result};
use crate::logbook::Logbook;
use crate::observer::ChangeOrigin;

/// Largest push body this client builds (well under the relay's limit).
const PUSH_BUDGET_BYTES: usize = 2 * 1024 * 1024;
/// Attempts for a request that failed for a reason worth retrying (network, 5xx).
const ATTEMPTS: u32 = 4;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncSummary {
    /// Blobs sent (one per document with unacknowledged changes, per round).
    pub pushed_blobs: u32,
    /// Local changes the relay acknowledged.
    pub pushed_changes: u32,
    /// Blobs received that added something new here.
    pub pulled_blobs: u32,
    /// Documents erased because they were deleted elsewhere (or access was withdrawn).
    pub erased_documents: u32,
    /// Punches newly recognised as duplicates by this sync.
    pub duplicates_found: u32,
    /// Changes this device's role may not send (kept locally, never lost).
    pub held_back: u32,
    /// Requests that were retried after a transient failure.
    pub retries: u32,
}

/// What joining told this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JoinInfo {
    pub device_id: String,
    pub coop_id: String,
    pub coop_name: String,
    pub role: String,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
}

struct Relay {
    url: String,
    token: String,
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("co-op-logbook/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Network(e.to_string()))
}

fn network(e: reqwest::Error) -> Error {
    // reqwest's Display can include the URL; that holds no personal data (ids only).
    Error::Network(if e.is_timeout() {
        "the relay did not answer in time".into()
    } else if e.is_connect() {
        "could not connect to the relay".into()
    } else {
        "the connection to the relay failed".into()
    })
}

async fn error_from(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let message = match resp.json::<proto::ErrorBody>().await {
        Ok(b) => b.message,
        Err(_) => "no details".into(),
    };
    if status == 401 {
        Error::Unauthorized(message)
    } else {
        Error::Relay { status, message }
    }
}

/// The response if its status is a success, else the relay's error.
async fn checked(resp: reqwest::Response) -> Result<reqwest::Response> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(error_from(resp).await)
    }
}

/// Decode a successful CBOR response body.
async fn cbor_body<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
) -> Result<T> {
    let bytes = checked(resp).await?.bytes().await.map_err(network)?;
    proto::from_cbor::<T>(&bytes).map_err(|_| Error::Relay {
        status: 200,
        message: format!("unreadable {what} response"),
    })
}

fn retryable(e: &Error) -> bool {
    matches!(e, Error::Network(_))
        || matches!(e, Error::Relay { status, .. } if *status >= 500 || *status == 429)
}

/// Run `attempt` up to [`ATTEMPTS`] times with exponential backoff on transient errors.
async fn with_retries<T, F, Fut>(retries: &mut u32, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if retryable(&e) && n < ATTEMPTS => {
                *retries += 1;
                let jitter = Duration::from_millis(rand::random::<u64>() % 100);
                tokio::time::sleep(delay + jitter).await;
                delay *= 2;
                n += 1;
            }
            other => return other,
        }
    }
}

impl Logbook {
    fn relay(&self) -> Result<Relay> {
        self.read(
            |c| match (db::get_meta(c, "relay_url")?, db::get_meta(c, "token")?) {
                (Some(url), Some(token)) => Ok(Relay { url, token }),
                _ => Err(Error::conflict(
                    "this device has not joined a relay: run `join` first",
                )),
            },
        )
    }

    /// Redeem a one-time join code at a relay, then sync once.
    pub async fn join(&self, relay_url: &str, code: &str, device_name: &str) -> Result<JoinInfo> {
        if self.grant()?.is_some() {
            return Err(Error::conflict("this device has already joined a relay"));
        }
        let url = relay_url.trim().trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid(
                "the relay address must start with http:// or https://",
            ));
        }
        let name = device_name.trim();
        if name.is_empty() || name.len() > 80 {
            return Err(Error::invalid("a device name is 1-80 characters"));
        }
        let http = client()?;
        let resp = http
            .post(format!("{url}/v1/join"))
            .json(&proto::JoinRequest {
                code: code.trim().to_string(),
                device_name: name.to_string(),
            })
            .send()
            .await
            .map_err(network)?;
        let resp = checked(resp).await?;
        let joined: proto::JoinResponse = resp.json().await.map_err(network)?;
        let grant_json =
            serde_json::to_string(&joined.grant).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.set_device_name(name)?;
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            db::set_meta(&tx, "relay_url", &url)?;
            db::set_meta(&tx, "token", &joined.token)?;
            db::set_meta(&tx, "relay_device_id", &joined.device_id)?;
            db::set_meta(&tx, "coop_id", &joined.coop_id)?;
            db::set_meta(&tx, "grant", &grant_json)?;
            db::set_meta(&tx, "cursor", "0")?;
            tx.commit()?;
            Ok(())
        })?;
        let info = JoinInfo {
            device_id: joined.device_id,
            coop_id: joined.coop_id,
            coop_name: joined.coop_name,
            role: joined.grant.role.as_str().to_string(),
            person_id: joined.grant.person.clone(),
            site_id: joined.grant.site.clone(),
        };
        // The first sync may fail (relay busy); the join itself stands and sync retries later.
        let _ = self.sync().await;
        Ok(info)
    }

    /// Push, then pull until nothing is left.
    pub async fn sync(&self) -> Result<SyncSummary> {
        let relay = self.relay()?;
        let grant = self
            .grant()?
            .ok_or_else(|| Error::conflict("this device has not joined a relay"))?;
        let http = client()?;
        let mut summary = SyncSummary::default();
        let duplicates_before = self.count_ignored()?;
        self.push_deletes(&http, &relay, &mut summary).await?;
        self.push_outbox(&http, &relay, &grant, &mut summary)
            .await?;
        self.pull_all(&http, &relay, &grant, &mut summary).await?;
        summary.duplicates_found = self.count_ignored()?.saturating_sub(duplicates_before);
        self.read(|c| {
            db::set_meta(
                c,
                "last_sync_at",
                &jiff::Timestamp::now().as_second().to_string(),
            )
        })?;
        Ok(summary)
    }

    fn count_ignored(&self) -> Result<u32> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM ignored_punches", [], |r| {
                    r.get::<_, i64>(0)
                })? as u32,
            )
        })
    }

    async fn push_deletes(
        &self,
        http: &reqwest::Client,
        relay: &Relay,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let docs: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare("SELECT doc FROM pending_deletes ORDER BY doc")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        for doc in docs {
            let mut retries = 0;
            let result = with_retries(&mut retries, || async {
                let resp = http
                    .post(format!("{}/v1/docs/delete", relay.url))
                    .bearer_auth(&relay.token)
                    .json(&proto::DeleteDocRequest { doc: doc.clone() })
                    .send()
                    .await
                    .map_err(network)?;
                checked(resp).await.map(drop)
            })
            .await;
            summary.retries += retries;
            match result {
                // 404: the relay never had it; either way it is gone there.
                Ok(()) | Err(Error::Relay { status: 404, .. }) => {
                    self.read(|c| {
                        c.execute("DELETE FROM pending_deletes WHERE doc = ?1", [&doc])?;
                        Ok(())
                    })?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn push_outbox(
        &self,
        http: &reqwest::Client,
        relay: &Relay,
        grant: &Grant,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            // Collect a batch: one blob per document, concatenating its queued changes
            // (automerge loads concatenated chunks), within the size budget.
            let rows: Vec<(i64, String, Vec<u8>)> = self.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, doc, data FROM outbox WHERE id > ?1 ORDER BY id LIMIT 2000",
                )?;
                let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut per_doc: BTreeMap<String, (Vec<u8>, Vec<i64>)> = BTreeMap::new();
            let mut size = 0;
            for (id, doc, data) in &rows {
                if size + data.len() > PUSH_BUDGET_BYTES && !per_doc.is_empty() {
                    break;
                }
                after = *id;
                let allowed = Scope::of_doc(doc).is_ok_and(|s| proto::may_write(grant, &s));
                if !allowed {
                    summary.held_back += 1;
                    continue;
                }
                size += data.len();
                let e = per_doc.entry(doc.clone()).or_default();
                e.0.extend_from_slice(data);
                e.1.push(*id);
            }
            if per_doc.is_empty() {
                continue;
            }
            let request = proto::PushRequest {
                docs: per_doc
                    .iter()
                    .map(|(doc, (bytes, _))| proto::PushDoc {
                        doc: doc.clone(),
                        blobs: vec![serde_bytes::ByteBuf::from(bytes.clone())],
                        supersedes: vec![],
                        key: None,
                    })
                    .collect(),
            };
            let body = proto::to_cbor(&request);
            let mut retries = 0;
            let result = with_retries(&mut retries, || async {
                let resp = http
                    .post(format!("{}/v1/push", relay.url))
                    .bearer_auth(&relay.token)
                    .header(reqwest::header::CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(network)?;
                cbor_body::<proto::PushResponse>(resp, "push").await
            })
            .await;
            summary.retries += retries;
            result?;
            let acked: Vec<i64> = per_doc
                .values()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect();
            self.read(|c| {
                let tx = c.unchecked_transaction()?;
                {
                    let mut del = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
                    for id in &acked {
                        del.execute([id])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })?;
            summary.pushed_blobs += per_doc.len() as u32;
            summary.pushed_changes += acked.len() as u32;
        }
    }

    async fn pull_page(
        &self,
        http: &reqwest::Client,
        relay: &Relay,
        after: u64,
        scope: Option<&str>,
        summary: &mut SyncSummary,
    ) -> Result<proto::PullResponse> {
        let mut query = vec![
            ("after", after.to_string()),
            ("limit", proto::DEFAULT_PULL_LIMIT.to_string()),
        ];
        if let Some(scope) = scope {
            query.push(("scope", scope.to_string()));
        }
        let mut retries = 0;
        let page = with_retries(&mut retries, || async {
            let resp = http
                .get(format!("{}/v1/pull", relay.url))
                .query(&query)
                .bearer_auth(&relay.token)
                .send()
                .await
                .map_err(network)?;
            cbor_body::<proto::PullResponse>(resp, "pull").await
        })
        .await;
        summary.retries += retries;
        page
    }

    async fn pull_all(
        &self,
        http: &reqwest::Client,
        relay: &Relay,
        grant: &Grant,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let first_cursor: u64 = self.read(|c| {
            Ok(db::get_meta(c, "cursor")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0))
        })?;
        let known: BTreeSet<String> = self.read(|c| {
            Ok(db::get_meta(c, "notes_readable")?
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or_default())
        })?;
        let mut cursor = first_cursor;
        let readable = loop {
            let page = self.pull_page(http, relay, cursor, None, summary).await?;
            let more = page.more && page.next > cursor;
            cursor = page.next;
            let readable: BTreeSet<String> = page.notes_readable.iter().cloned().collect();
            self.apply_page(page, grant, true, summary)?;
            if !more {
                break readable;
            }
        };
        // Consent given since the last sync: the cursor already passed that person's
        // older notes (they were not readable then), so fetch their scope from the start.
        if first_cursor > 0 {
            for person in readable.difference(&known) {
                let scope = Scope::Notes(person.clone()).to_string();
                let mut after = 0;
                loop {
                    let page = self
                        .pull_page(http, relay, after, Some(&scope), summary)
                        .await?;
                    let more = page.more && page.next > after;
                    after = page.next;
                    self.apply_page(page, grant, false, summary)?;
                    if !more {
                        break;
                    }
                }
            }
        }
        let json = serde_json::to_string(&readable).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.read(|c| db::set_meta(c, "notes_readable", &json))
    }

    /// Merge one pulled page and (unless it is a back-fill) save its cursor, atomically.
    fn apply_page(
        &self,
        page: proto::PullResponse,
        grant: &Grant,
        save_cursor: bool,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let readable_notes: BTreeSet<String> = page.notes_readable.iter().cloned().collect();
        let stale_notes: Vec<String> = if grant.role == Role::Coordinator {
            // Consent withdrawn: a coordinator forgets the notes it may no longer read.
            self.read(|c| {
                let mut stmt = c.prepare("SELECT doc, person FROM note_threads")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                let all: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
                Ok(all
                    .into_iter()
                    .filter(|(_, p)| !readable_notes.contains(p))
                    .map(|(d, _)| d)
                    .collect())
            })?
        } else {
            Vec::new()
        };
        let erased_before = summary.erased_documents;
        self.write(ChangeOrigin::Sync, |w| {
            for d in &page.docs {
                if docs::DocKind::of(&d.doc).is_err() {
                    // A document kind this version does not know: skip it, keep going.
                    continue;
                }
                let blobs: Vec<Vec<u8>> = d.blobs.iter().map(|b| b.to_vec()).collect();
                summary.pulled_blobs += w.merge_remote(&d.doc, &blobs)? as u32;
            }
            for doc in page.deleted.iter().chain(stale_notes.iter()) {
                if db::last_chunk_id(&w.tx, doc)? > 0 {
                    w.erase(doc)?;
                    summary.erased_documents += 1;
                }
            }
            if save_cursor {
                db::set_meta(&w.tx, "cursor", &page.next.to_string())?;
            }
            Ok(())
        })?;
        if summary.erased_documents > erased_before {
            self.scrub_wal()?;
        }
        Ok(())
    }

    // ---------- coordinator and consent calls (online only) ----------

    /// Ask the relay for a one-time join code (coordinators).
    pub async fn invite(
        &self,
        grant: Grant,
        expires_in_hours: Option<u32>,
    ) -> Result<proto::InviteResponse> {
        let relay = self.relay()?;
        let resp = client()?
            .post(format!("{}/v1/invites", relay.url))
            .bearer_auth(&relay.token)
            .json(&proto::InviteRequest {
                grant,
                expires_in_hours,
            })
            .send()
            .await
            .map_err(network)?;
        let resp = checked(resp).await?;
        resp.json().await.map_err(network)
    }

    /// The coop's devices (coordinators).
    pub async fn devices(&self) -> Result<Vec<proto::DeviceInfo>> {
        let relay = self.relay()?;
        let resp = client()?
            .get(format!("{}/v1/devices", relay.url))
            .bearer_auth(&relay.token)
            .send()
            .await
            .map_err(network)?;
        let resp = checked(resp).await?;
        Ok(resp
            .json::<proto::DevicesResponse>()
            .await
            .map_err(network)?
            .devices)
    }

    /// Revoke a device (coordinators): it can no longer sync or read anything new.
    pub async fn revoke_device(&self, device_id: &str) -> Result<()> {
        proto::validate_entity_id(device_id).map_err(|_| Error::invalid("invalid device id"))?;
        let relay = self.relay()?;
        let resp = client()?
            .post(format!("{}/v1/devices/{device_id}/revoke", relay.url))
            .bearer_auth(&relay.token)
            .send()
            .await
            .map_err(network)?;
        checked(resp).await?;
        Ok(())
    }

    /// Set whether coordinators may read a person's notes. Only the person's own device
    /// or their supporter may; the relay enforces it. Standalone logbooks record it locally.
    pub async fn set_consent(&self, person_id: &str, coordinator_notes: bool) -> Result<()> {
        proto::validate_entity_id(person_id).map_err(|_| Error::invalid("invalid person id"))?;
        if let Some(grant) = self.grant()? {
            if !proto::may_set_consent(&grant, person_id) {
                return Err(Error::forbidden(
                    "only the person or their supporter may set their consent",
                ));
            }
            let relay = self.relay()?;
            let resp = client()?
                .put(format!("{}/v1/consent/{person_id}", relay.url))
                .bearer_auth(&relay.token)
                .json(&proto::ConsentRequest { coordinator_notes })
                .send()
                .await
                .map_err(network)?;
            checked(resp).await?;
        }
        self.store_consent(person_id, coordinator_notes)
    }

    /// Changes waiting for the relay.
    pub fn pending_changes(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    /// Forget this device's relay membership locally (after it was revoked, say). The
    /// data stays.
    pub fn leave_relay(&self) -> Result<()> {
        self.read(|c| {
            for k in [
                "relay_url",
                "token",
                "relay_device_id",
                "coop_id",
                "grant",
                "cursor",
            ] {
                db::delete_meta(c, k)?;
            }
            c.execute("DELETE FROM pending_deletes", params![])?;
            Ok(())
        })
    }
}
