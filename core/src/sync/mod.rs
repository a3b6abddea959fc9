//! The sync client: join a relay with a one-time code, then push what the relay has not
//! acknowledged and pull what this device may read after its cursor.
//!
//! - [`transport`]: the relay requests behind a small trait (HTTP in [`transport::HttpRelay`]).
//! - [`push`]: erasures and the outbox. [`pull`]: pages after the cursor, consent back-fill.
//!
//! Crash safety: pushed changes leave the outbox only after the relay acknowledged them
//! (a re-push after a crash is a no-op at the relay: same content id), and each pulled
//! page is merged and its cursor saved in one local transaction. Killing the process at
//! any point therefore loses nothing and duplicates nothing. No database transaction is
//! held across an `await`, so cancelling a sync (dropping its future) is safe too.

pub(crate) mod erasure;
mod migrate;
mod pull;
mod push;
pub(crate) mod transport;
pub(crate) mod trust;

pub use trust::NotesDevice;

use std::time::Duration;

use logbook_protocol as proto;
use logbook_protocol::{Grant, Role};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::logbook::{Logbook, validate_device_name};
use crate::observer::ChangeOrigin;
use crate::store::{DEVICE, MEMBERSHIP, meta};
use crate::timesheets;
use transport::{HttpRelay, Transport, parse_relay_urls};

/// Meta key: "1" if the relay takes gzipped request bodies (see `transport`).
const GZIP_REQUESTS: &str = "relay_gzip_requests";
/// Meta key: every relay address, in the order they are tried, as a JSON array, when
/// there is more than one (`relay_url` is always the first).
const RELAY_URLS: &str = "relay_urls";

/// Attempts for a request that failed for a reason worth retrying (network, 5xx, 429).
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
    /// Punch documents a kiosk forgot: acknowledged by the relay and older than the
    /// review window (kept at the relay, gone from the kiosk).
    pub forgotten_documents: u32,
    /// Documents this device owns whose many blobs at the relay it replaced with one
    /// compacted snapshot.
    pub compacted_documents: u32,
    /// Blobs that failed their end-to-end checks (altered, moved between documents, a
    /// writer that may not write there, unsigned): dropped, never merged, listed in the
    /// quarantine. Non-zero means the relay (or a device) misbehaved.
    pub dropped_blobs: u32,
    /// Blobs set aside until a key or a device they need is known here (retried after
    /// every key round that brings one).
    pub held_blobs: u32,
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
    /// The first sync completed (else `sync_error` says why; the next sync completes it).
    pub synced: bool,
    pub sync_error: Option<String>,
    /// This device was the coop's first coordinator and started its directory (with the
    /// coop's name from the relay and `timezone`).
    pub started_coop: bool,
    pub timezone: Option<String>,
}

/// `logbook.sync()`.
#[derive(Clone, Copy)]
pub struct SyncClient<'a> {
    lb: &'a Logbook,
}

/// Where this device syncs, once joined.
struct Membership {
    relay: HttpRelay,
    grant: Grant,
}

impl<'a> SyncClient<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> SyncClient<'a> {
        SyncClient { lb }
    }

    fn membership(&self) -> Result<Membership> {
        let (urls, token, gzip) = self.lb.store.read(|c| {
            Ok((
                stored_relay_urls(c)?,
                meta::get_meta(c, "token")?,
                meta::get_meta(c, GZIP_REQUESTS)?,
            ))
        })?;
        let (false, Some(token), Some(grant)) = (urls.is_empty(), token, self.lb.store.grant())
        else {
            return Err(Error::conflict(
                "this device has not joined a relay: run `join` first",
            ));
        };
        Ok(Membership {
            relay: HttpRelay::new(&urls, &token)?.with_gzip_requests(gzip.as_deref() == Some("1")),
            grant,
        })
    }

    /// The relay addresses this device syncs with, in the order it tries them (empty
    /// before joining).
    pub fn relay_urls(&self) -> Result<Vec<String>> {
        self.lb.store.read(stored_relay_urls)
    }

    /// Replaces the relay addresses (a list separated by commas or spaces; the first is
    /// tried first, the next ones when it cannot be reached or answers with a server
    /// error). They must all be addresses of this device's relay: processes sharing its
    /// database, or proxies in front of it. Returns the list as stored.
    pub fn set_relay_urls(&self, list: &str) -> Result<Vec<String>> {
        let urls = parse_relay_urls(list);
        if urls.is_empty() {
            return Err(Error::invalid("give at least one relay address"));
        }
        for url in &urls {
            check_relay_url(url)?;
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if meta::get_meta(&w.tx, "relay_url")?.is_none() {
                return Err(Error::conflict(
                    "this device has not joined a relay: run `join` first",
                ));
            }
            store_relay_urls(w, &urls)?;
            w.touch(MEMBERSHIP);
            Ok(())
        })?;
        Ok(urls)
    }

    /// Redeem a one-time join code at a relay, then sync once. See [`Self::join_with`].
    pub async fn join(self, relay_url: &str, code: &str, device_name: &str) -> Result<JoinInfo> {
        self.join_with(relay_url, code, device_name, None).await
    }

    /// Redeem a one-time join code, then sync once. The join stands even if that first
    /// sync fails (the result says so, and the next sync completes it). `relay_url` may
    /// list several addresses of the relay, separated by commas (see
    /// [`Self::set_relay_urls`]).
    ///
    /// The first coordinator of a new coop starts from here alone: if the relay holds no
    /// directory yet, this device starts it with the coop's name (from the relay) and
    /// `timezone` (an IANA name; default this computer's zone, else UTC).
    pub async fn join_with(
        self,
        relay_url: &str,
        code: &str,
        device_name: &str,
        timezone: Option<&str>,
    ) -> Result<JoinInfo> {
        if self.lb.store.grant().is_some() {
            return Err(Error::conflict("this device has already joined a relay"));
        }
        let urls = parse_relay_urls(relay_url);
        if urls.is_empty() {
            return Err(Error::invalid("give the relay's address"));
        }
        for url in &urls {
            check_relay_url(url)?;
        }
        let name = validate_device_name(device_name)?;
        let timezone = match timezone {
            Some(tz) => {
                jiff::tz::TimeZone::get(tz).map_err(|_| {
                    Error::invalid("unknown time zone: use an IANA name such as Europe/London")
                })?;
                tz.to_string()
            }
            None => jiff::tz::TimeZone::system()
                .iana_name()
                .unwrap_or("UTC")
                .to_string(),
        };
        // Only the first half of the code goes to the relay; the second opens the key
        // envelope the inviter left there (docs/SECURITY.md).
        let (relay_code, full_code) = trust::split_code(code);
        let relay = HttpRelay::new(&urls, "")?;
        let joined = relay
            .join(&proto::JoinRequest {
                code: relay_code,
                device_name: name.clone(),
            })
            .await?;
        let device_key = self.lb.device_key();
        let grant_json =
            serde_json::to_string(&joined.grant).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.lb.store.set_device_name(&name)?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            store_relay_urls(w, &urls)?;
            w.set_meta("token", &joined.token)?;
            w.set_meta("relay_device_id", &joined.device_id)?;
            w.set_meta("coop_id", &joined.coop_id)?;
            w.set_meta("relay_coop_name", &joined.coop_name)?;
            w.set_meta("join_timezone", &timezone)?;
            w.set_meta("grant", &grant_json)?;
            w.set_meta("cursor", "0")?;
            // A store acting as a client from before end-to-end encryption (tests only,
            // `act_as_plaintext_client`) joins without keys, as those clients did.
            if meta::get_meta(&w.tx, trust::PLAINTEXT_CLIENT)?.is_none() {
                trust::on_join(
                    w,
                    &device_key,
                    &joined.coop_id,
                    &joined.grant,
                    full_code.as_ref(),
                    joined.key_envelope.as_deref(),
                )?;
            }
            w.set_meta(GZIP_REQUESTS, if relay.gzip_requests() { "1" } else { "0" })?;
            w.touch(MEMBERSHIP);
            Ok(())
        })?;
        let had_directory = self.lb.directory().coop().is_ok();
        let (synced, sync_error) = match self.run().await {
            Ok(_) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        let started_coop = !had_directory
            && joined.grant.role == Role::Coordinator
            && self
                .lb
                .store
                .read(|c| meta::get_meta(c, "started_coop"))?
                .is_some();
        Ok(JoinInfo {
            device_id: joined.device_id,
            coop_id: joined.coop_id,
            coop_name: joined.coop_name,
            role: joined.grant.role.as_str().to_string(),
            person_id: joined.grant.person.clone(),
            site_id: joined.grant.site.clone(),
            synced,
            sync_error,
            started_coop,
            timezone: started_coop.then_some(timezone),
        })
    }

    /// Push, then pull until nothing is left.
    pub async fn run(self) -> Result<SyncSummary> {
        let m = self.membership()?;
        let knew_gzip = m.relay.gzip_requests();
        let result = self.run_with(&m).await;
        // What the relay said about compressed requests is kept even if the sync failed
        // half-way (a poor link), so the next attempt's first push is compressed too.
        if m.relay.gzip_requests() != knew_gzip {
            let gzip = if m.relay.gzip_requests() { "1" } else { "0" };
            self.lb
                .store
                .write(ChangeOrigin::Sync, |w| w.set_meta(GZIP_REQUESTS, gzip))?;
        }
        result
    }

    async fn run_with(self, m: &Membership) -> Result<SyncSummary> {
        let mut summary = SyncSummary::default();
        let duplicates_before = self.lb.store.read(timesheets::cache::ignored_count)?;
        // A store that joined before end-to-end encryption upgrades in place: it makes
        // its keys now and registers them in the key round below (docs/SECURITY.md,
        // Migration from plaintext).
        if self.lb.store.read(trust::needs_upgrade)? {
            let device_key = self.lb.device_key();
            self.lb
                .store
                .write(ChangeOrigin::Sync, |w| trust::upgrade(w, &device_key))?;
        }
        self.push_deletes(&m.relay, &mut summary).await?;
        // Keys first when something here calls for them (first round, keys not
        // registered, people or consent changed): new scope keys seal this sync's pushes.
        if self.lb.store.read(trust::round_due_before_push)? {
            self.key_round(&m.relay, &mut summary.retries, false)
                .await?;
        }
        self.push_outbox(&m.relay, &m.grant, &mut summary).await?;
        summary.compacted_documents = self.compact_owned(&m.relay, &mut summary).await?;
        summary.forgotten_documents = crate::kiosk::forget_acknowledged_taps(self.lb)?;
        let pulled = self.pull_all(&m.relay, &m.grant, &mut summary).await?;
        let keys_epoch = pulled.keys_epoch;
        if pulled.new_generation {
            // The relay was restored from a backup: register keys and deliver scope keys
            // again, then push everything queued for it (docs/PROTOCOL.md).
            self.key_round(&m.relay, &mut summary.retries, true).await?;
            self.push_outbox(&m.relay, &m.grant, &mut summary).await?;
        }
        // A key event at the relay since the last round (a device joined or was revoked,
        // keys or certificates were delivered): learn it now. It opens the blobs held for
        // those keys, and changes that waited in the outbox for a key go out with it.
        // Otherwise a sync that finds nothing new is this one pull request.
        // Changes held back for want of a key also call for one: a key this device is to
        // make may wait for a pull (a person's notes key, docs/SECURITY.md, Notes keys).
        if (summary.held_back > 0
            || self
                .lb
                .store
                .read(|c| trust::round_due_after_pull(c, keys_epoch))?)
            && self.key_round(&m.relay, &mut summary.retries, true).await?
            && self.pending_changes()? > 0
        {
            // The second push counts the whole outbox's held-back changes again.
            summary.held_back = 0;
            self.push_outbox(&m.relay, &m.grant, &mut summary).await?;
        }
        if self.start_coop_if_empty(&m.grant)? {
            self.push_outbox(&m.relay, &m.grant, &mut summary).await?;
        }
        // Documents this device pushed in plaintext before it upgraded, now that it may
        // hold their keys: sealed snapshots supersede them (nothing to do, no request,
        // once all are).
        self.reseal(&m.relay, &mut summary.retries).await?;
        // Then what only the relay still holds of it (a kiosk forgot its taps): once.
        self.reseal_own_from_relay(&m.relay, &mut summary.retries)
            .await?;
        // And what revoked devices that never upgraded left where this device writes.
        self.reseal_orphans(&m.relay, &mut summary.retries, false)
            .await?;
        summary.duplicates_found = self
            .lb
            .store
            .read(timesheets::cache::ignored_count)?
            .saturating_sub(duplicates_before);
        let now = self.lb.store.now();
        let (erased, retired) = self.lb.store.write(ChangeOrigin::Sync, |w| {
            w.set_meta("last_sync_at", &now.to_string())?;
            w.touch(DEVICE);
            // Erasures that waited for a key, and key versions an erasure retired
            // (docs/SECURITY.md, Erasure): gone for good.
            erasure::after_sync(w)
        })?;
        summary.erased_documents += erased;
        if erased > 0 || retired {
            self.lb.store.scrub_wal()?;
        }
        Ok(summary)
    }

    /// A coordinator that has pulled everything and still holds no directory is the
    /// first of a new coop: it starts the directory with the name the relay gave at join
    /// and the time zone chosen then. Returns whether it did.
    fn start_coop_if_empty(&self, grant: &Grant) -> Result<bool> {
        if grant.role != Role::Coordinator {
            return Ok(false);
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if meta::get_meta(&w.tx, "coop_name")?.is_some() {
                return Ok(false);
            }
            let (Some(name), Some(tz)) = (
                meta::get_meta(&w.tx, "relay_coop_name")?,
                meta::get_meta(&w.tx, "join_timezone")?,
            ) else {
                return Ok(false);
            };
            crate::directory::write_genesis_directory(w, &name, &tz)?;
            w.set_meta("started_coop", "yes")?;
            Ok(true)
        })
    }

    // ---------- coordinator calls (online only) ----------

    /// Ask the relay for a one-time join code (coordinators). The grant is checked here
    /// first with the same rules the relay applies.
    pub async fn invite(
        self,
        grant: Grant,
        expires_in_hours: Option<u32>,
    ) -> Result<proto::InviteResponse> {
        proto::validate_invite_grant(&grant).map_err(|e| Error::invalid(e.to_string()))?;
        let m = self.membership()?;
        // Recognise the devices that joined since the last sync first, so the new device
        // is told to trust them too (the envelope carries this device's directory).
        self.key_round(&m.relay, &mut 0, false).await?;
        let mut resp = m
            .relay
            .invite(&proto::InviteRequest {
                grant: grant.clone(),
                expires_in_hours,
            })
            .await?;
        // The relay's code plus a secret half that opens the key envelope left with it.
        resp.code = self.seal_invite(&m.relay, &resp.code, &grant).await?;
        Ok(resp)
    }

    /// The coop's devices (coordinators).
    pub async fn devices(self) -> Result<Vec<proto::DeviceInfo>> {
        self.membership()?.relay.devices().await
    }

    /// Revoke a device (coordinators): it can no longer sync, the unused join codes it
    /// minted are cancelled, and a key round runs at once, which rotates the keys of every
    /// scope it could read where this device is the one to rotate them (docs/SECURITY.md,
    /// Revocation) and delivers the new versions to the remaining devices. Returns the
    /// devices it brought in (those it certified), for the coordinator to review.
    pub async fn revoke_device(self, device_id: &str) -> Result<Vec<proto::DeviceInfo>> {
        proto::validate_entity_id(device_id).map_err(|_| Error::invalid("invalid device id"))?;
        let m = self.membership()?;
        m.relay.revoke(device_id).await?;
        self.key_round(&m.relay, &mut 0, false).await?;
        let brought_in = self.brought_in(&m.relay, device_id).await?;
        let devices = m.relay.devices().await?;
        Ok(devices
            .into_iter()
            .filter(|d| brought_in.contains(&d.device_id))
            .collect())
    }

    pub(crate) async fn send_consent(self, person_id: &str, coordinator_notes: bool) -> Result<()> {
        let m = self.membership()?;
        m.relay.consent(person_id, coordinator_notes).await?;
        self.record_consent(person_id, coordinator_notes)?;
        // Consent: deliver the notes key to the coordinators now (the relay serves them the
        // notes from their next pull, and they should be able to open them then).
        // Withdrawal: rotate the notes key now, so the next note is sealed to a version
        // no coordinator holds.
        self.key_round(&m.relay, &mut 0, false).await?;
        Ok(())
    }

    /// Changes waiting for the relay.
    pub fn pending_changes(&self) -> Result<u64> {
        self.lb.store.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    /// When this device last completed a sync (Unix seconds), if ever.
    pub fn last_sync_at(&self) -> Result<Option<i64>> {
        self.lb
            .store
            .read(|c| Ok(meta::get_meta(c, "last_sync_at")?.and_then(|v| v.parse().ok())))
    }

    /// Forget this device's relay membership locally (after it was revoked, say). The
    /// data stays, and so do erasures the relay has not heard of yet: they are sent with
    /// the next membership's first sync.
    pub fn leave_relay(&self) -> Result<()> {
        self.lb.store.write(ChangeOrigin::Local, |w| {
            for k in [
                "relay_url",
                RELAY_URLS,
                "token",
                "relay_device_id",
                "coop_id",
                "grant",
                "cursor",
                pull::OWN_THROUGH,
                pull::RELAY_GENERATION,
                GZIP_REQUESTS,
            ]
            .into_iter()
            .chain(trust::MEMBERSHIP_KEYS)
            .chain(erasure::MEMBERSHIP_KEYS)
            {
                w.delete_meta(k)?;
            }
            w.touch(MEMBERSHIP);
            Ok(())
        })
    }
}

/// The stored relay addresses: `relay_urls` if set, else `relay_url` alone.
fn stored_relay_urls(c: &rusqlite::Connection) -> Result<Vec<String>> {
    if let Some(list) = meta::get_meta(c, RELAY_URLS)?
        && let Ok(urls) = serde_json::from_str::<Vec<String>>(&list)
        && !urls.is_empty()
    {
        return Ok(urls);
    }
    Ok(meta::get_meta(c, "relay_url")?.into_iter().collect())
}

fn store_relay_urls(w: &mut crate::store::writer::Writer<'_>, urls: &[String]) -> Result<()> {
    w.set_meta("relay_url", &urls[0])?;
    if urls.len() > 1 {
        let json = serde_json::to_string(urls).map_err(|e| Error::Corrupt(e.to_string()))?;
        w.set_meta(RELAY_URLS, &json)
    } else {
        w.delete_meta(RELAY_URLS)
    }
}

/// Worth another try: the network failed, the relay had a passing problem (5xx, or a
/// timed-out request, 408), or it asked us to slow down. A full quota (507) is not: it
/// will not pass by itself.
/// A relay address must be `https://`, except on this machine (`http://localhost`,
/// `127.x.x.x`, `[::1]`), where there is no network to listen in on.
pub(crate) fn check_relay_url(url: &str) -> Result<()> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(Error::invalid(
            "the relay address must start with https:// (or http:// on this machine)",
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(Error::invalid(
            "the relay address must use https:// (plain http:// is only for this machine): everything a device syncs is personal data",
        ))
    }
}

pub(crate) fn retryable(e: &Error) -> bool {
    matches!(
        e,
        Error::Network(_) | Error::Unreachable | Error::RelayBusy { .. }
    ) || matches!(e, Error::Relay { status, .. } if (*status >= 500 && *status != 507) || *status == 408)
}

/// The longest a sync waits on one Retry-After before giving up for this round.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Consecutive transient failures a push or pull batch survives (shrinking each time)
/// before the sync gives up for now; the next sync resumes where this one stopped. A
/// relay that cannot be reached at all gets the ordinary number of attempts: a slow link
/// is worth persisting with, a relay that is down is not.
pub(crate) const SLOW_LINK_ATTEMPTS: u32 = 8;

/// How many consecutive failures of this kind a batch may retry after.
pub(crate) fn attempts_for(e: &Error) -> u32 {
    if matches!(e, Error::Unreachable) {
        ATTEMPTS - 1
    } else {
        SLOW_LINK_ATTEMPTS
    }
}

/// How long to wait before the `failures`-th retry: what a busy relay asked for, else
/// exponential from 200 ms for the first retry (at most 6.4 s), with jitter.
pub(crate) fn backoff(failures: u32, e: &Error) -> Duration {
    let jitter = Duration::from_millis(rand::random::<u64>() % 100);
    match e {
        Error::RelayBusy {
            retry_after_seconds,
        } => Duration::from_secs(*retry_after_seconds).min(MAX_RETRY_AFTER) + jitter,
        _ => Duration::from_millis(100 << failures.clamp(1, 6)) + jitter,
    }
}

/// A request size that follows the link: it doubles after a success and halves after a
/// transient failure, between a floor and a ceiling.
pub(crate) struct Adaptive {
    size: usize,
    min: usize,
    max: usize,
}

impl Adaptive {
    pub(crate) fn new(start: usize, min: usize, max: usize) -> Adaptive {
        Adaptive {
            size: start.clamp(min, max),
            min,
            max,
        }
    }
    pub(crate) fn size(&self) -> usize {
        self.size
    }
    pub(crate) fn grow(&mut self) {
        self.size = (self.size * 2).min(self.max);
    }
    pub(crate) fn shrink(&mut self) {
        self.size = (self.size / 2).max(self.min);
    }
}

/// Run `attempt` up to [`ATTEMPTS`] times with exponential backoff on transient errors.
pub(crate) async fn with_retries<T, F, Fut>(retries: &mut u32, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut failures = 0;
    loop {
        match attempt().await {
            Err(e) if retryable(&e) && failures + 1 < ATTEMPTS => {
                *retries += 1;
                failures += 1;
                tokio::time::sleep(backoff(failures, &e)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_on_this_machine() {
        for ok in [
            "https://relay.example",
            "http://127.0.0.1:8787",
            "http://localhost:8787/",
            "http://[::1]:8787",
            "http://127.3.2.1",
        ] {
            assert!(check_relay_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://relay.example",
            "http://10.0.0.2:8787",
            "http://localhost.evil.example",
            "ftp://relay.example",
            "relay.example",
        ] {
            assert!(
                matches!(check_relay_url(bad), Err(Error::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_relay_is_retried_after_its_retry_after_and_a_full_quota_is_not() {
        let mut retries = 0;
        let mut calls = 0;
        let started = tokio::time::Instant::now();
        let out: Result<()> = with_retries(&mut retries, || {
            calls += 1;
            let first = calls == 1;
            async move {
                if first {
                    Err(Error::RelayBusy {
                        retry_after_seconds: 7,
                    })
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(out.is_ok());
        assert_eq!(retries, 1);
        assert!(
            started.elapsed() >= Duration::from_secs(7),
            "waited as asked"
        );
        let mut calls = 0;
        let full: Result<()> = with_retries(&mut retries, || {
            calls += 1;
            async {
                Err(Error::Relay {
                    status: 507,
                    message: "quota".into(),
                })
            }
        })
        .await;
        assert!(full.is_err());
        assert_eq!(calls, 1, "a full quota is not retried");
    }
}
