//! Defences against hostile devices, slow clients and poor links: connection-level
//! timeouts and a cap on open connections, a whole-request timeout, and per-client /
//! per-device rate limits. Every knob is in [`Limits`]; the `serve` flags and their
//! `LOGBOOK_RELAY_*` variables set it (docs/PROTOCOL.md, Operations).
//!
//! Where each defence sits, outside in:
//! - [`GuardedAcceptor`]: a connection takes a slot of `max_connections` before anything
//!   else (TLS handshake included) and gives it back when it closes; its stream
//!   ([`Guarded`]) is closed when no byte moves either way for `idle_timeout` (a stalled
//!   upload, or a client that stops reading a pull's answer).
//! - hyper's `header_read_timeout` and axum-server's `first_request_timeout`, both
//!   `header_timeout`: headers sent a byte at a time are cut off. hyper starts that clock
//!   as soon as it waits for the next request, so it also closes idle keep-alive
//!   connections.
//! - [`request_timeout`]: a request (body upload included) that takes longer than
//!   `request_timeout` is answered `408` (JSON) and its connection closed.
//! - [`RateLimits`]: `429` with `Retry-After` per client address (join) and per device
//!   (push, pull).

use crate::error::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::accept::Accept;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::future::Future;
use std::hash::Hash;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connection, time, rate and storage limits. The defaults are generous: a normal coop
/// never meets them; they exist to bound what one hostile or broken client can take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A connection must deliver a request's complete headers within this time (also
    /// the longest a keep-alive connection waits idle for its next request).
    pub header_timeout: Duration,
    /// Longest time for one request, from its headers to the handler's answer (the
    /// body upload included). `408` after it.
    pub request_timeout: Duration,
    /// A connection on which no byte moves in either direction for this long is closed.
    /// Keep it above `request_timeout`: a slow handler moves no bytes either.
    pub idle_timeout: Duration,
    /// Most open connections. One more waits up to `header_timeout` for a free slot and
    /// is then closed.
    pub max_connections: usize,
    /// Joins per minute per client address (IPv6: per /64); `0` turns the limit off.
    pub join_per_minute: u32,
    /// Take the client address for the join limit from the last `X-Forwarded-For` entry
    /// (the one a reverse proxy appends). Only behind a proxy that sets it: otherwise a
    /// client could pick its own address.
    pub trust_forwarded_for: bool,
    /// Pushes per minute per device; `0` turns the limit off.
    pub push_per_minute: u32,
    /// Pulls per minute per device; `0` turns the limit off.
    pub pull_per_minute: u32,
    /// Pushes one device may have in flight at once (each may buffer an 8 MiB body); more
    /// get `429`. Bounds what a stolen device's token can make the relay hold in memory.
    pub pushes_in_flight_per_device: u32,
    /// How often tombstones that every device has pulled past are removed.
    pub tombstone_sweep: Duration,
    /// Stored blob bytes per coop; `0` turns the quota off.
    pub coop_quota_bytes: u64,
    /// Stored blob bytes pushed by one device (and not yet superseded or erased); `0`
    /// turns the quota off.
    pub device_quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            max_connections: 1_000,
            join_per_minute: 30,
            trust_forwarded_for: false,
            push_per_minute: 600,
            pull_per_minute: 1_200,
            pushes_in_flight_per_device: 2,
            tombstone_sweep: Duration::from_secs(600),
            coop_quota_bytes: 1 << 30,
            device_quota_bytes: 256 << 20,
        }
    }
}

// ---------- connections ----------

/// Wraps the real acceptor (plain TCP or rustls): takes a connection slot first, then
/// hands the stream to the inner acceptor, and returns a [`Guarded`] stream that holds
/// the slot until the connection is dropped.
#[derive(Clone)]
pub(crate) struct GuardedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
    /// How long a new connection waits for a slot.
    wait: Duration,
    idle: Duration,
}

impl<A> GuardedAcceptor<A> {
    /// `slots` holds `limits.max_connections` permits (shared with the metrics, which
    /// count the open connections from it).
    pub(crate) fn new(inner: A, slots: Arc<Semaphore>, limits: &Limits) -> Self {
        GuardedAcceptor {
            inner,
            slots,
            wait: limits.header_timeout,
            idle: limits.idle_timeout,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<I, S, A> Accept<I, S> for GuardedAcceptor<A>
where
    A: Accept<I, S> + Clone + Send + Sync + 'static,
    A::Future: Send,
    A::Stream: Send,
    A::Service: Send,
    I: Send + 'static,
    S: Send + 'static,
{
    type Stream = Guarded<A::Stream>;
    type Service = A::Service;
    type Future = BoxFuture<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let permit = tokio::time::timeout(this.wait, this.slots.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| io::Error::other("connection limit reached"))?;
            let (stream, service) = this.inner.accept(stream, service).await?;
            Ok((Guarded::new(stream, permit, this.idle), service))
        })
    }
}

/// A connection's stream: holds its connection slot and fails with `TimedOut` once no
/// byte has moved either way for the idle timeout.
pub(crate) struct Guarded<S> {
    inner: S,
    _slot: OwnedSemaphorePermit,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> Guarded<S> {
    fn new(inner: S, slot: OwnedSemaphorePermit, idle: Duration) -> Self {
        Guarded {
            inner,
            _slot: slot,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn moved(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// Called when the inner stream is pending: the error to return if the connection
    /// has been idle too long.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle too long")
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

// ---------- requests ----------

/// Answers `408` when a request (reading its body included) takes longer than the
/// limit. A push cut off this way may still commit (the store's work is not cancelled);
/// retrying it is harmless because pushes are idempotent.
pub(crate) async fn request_timeout(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => AppError::Timeout.into_response(),
    }
}

// ---------- rate limits ----------

type Keyed<K> = DefaultKeyedRateLimiter<K>;

/// What a refused push costs of the device's push allowance (in pushes); see
/// [`RateLimits::charge_refused_push`].
pub(crate) const REFUSED_PUSH_COST: u32 = 60;

/// Per-key token buckets (GCRA, from `governor`): each key may spend its per-minute
/// allowance in a burst, then one request per `60 s / allowance`.
pub(crate) struct RateLimits {
    join: Option<Keyed<IpAddr>>,
    push: Option<Keyed<String>>,
    pull: Option<Keyed<String>>,
    clock: DefaultClock,
    /// Pushes in flight per device (entries removed at zero).
    in_flight: std::sync::Mutex<std::collections::HashMap<String, u32>>,
    max_in_flight: u32,
    trust_forwarded_for: bool,
}

/// The last address of the last `X-Forwarded-For` header: the one the nearest proxy
/// appended (earlier entries come from the client and prove nothing).
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

/// One of a device's in-flight push slots, given back on drop.
pub(crate) struct PushSlot {
    limits: Arc<RateLimits>,
    device_id: String,
}

impl Drop for PushSlot {
    fn drop(&mut self) {
        let mut map = self
            .limits
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.device_id) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.device_id);
            }
        }
    }
}

fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Option<Keyed<K>> {
    NonZeroU32::new(per_minute).map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)))
}

fn check<K: Hash + Eq + Clone>(
    limiter: &Option<Keyed<K>>,
    clock: &DefaultClock,
    key: &K,
) -> Result<(), AppError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(clock.now());
        // Whole seconds, rounded up, so a client that waits exactly that long gets in.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::RateLimited(secs.max(1))
    })
}

/// The key of a client address: IPv4 as is, IPv6 by its /64 (one household or host
/// usually holds a whole /64, so counting single addresses would be no limit).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl RateLimits {
    pub(crate) fn new(limits: &Limits) -> Self {
        RateLimits {
            join: keyed(limits.join_per_minute),
            push: keyed(limits.push_per_minute),
            pull: keyed(limits.pull_per_minute),
            clock: DefaultClock::default(),
            in_flight: Default::default(),
            max_in_flight: limits.pushes_in_flight_per_device.max(1),
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    /// A slot for one more push of this device, within its per-minute rate and its
    /// in-flight cap.
    pub(crate) fn push_slot(self: &Arc<Self>, device_id: &str) -> Result<PushSlot, AppError> {
        self.push(device_id)?;
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(device_id.to_string()).or_default();
        if *n >= self.max_in_flight {
            return Err(AppError::RateLimited(1));
        }
        *n += 1;
        Ok(PushSlot {
            limits: self.clone(),
            device_id: device_id.to_string(),
        })
    }

    /// Checks the join limit of the client at `peer` (the socket's address), or of the
    /// address the reverse proxy reported when that is trusted.
    pub(crate) fn join(
        &self,
        peer: IpAddr,
        headers: &axum::http::HeaderMap,
    ) -> Result<(), AppError> {
        let client = if self.trust_forwarded_for {
            forwarded_for(headers).unwrap_or(peer)
        } else {
            peer
        };
        check(&self.join, &self.clock, &client_key(client))
    }

    /// Charges a device whose push was refused as unreadable or over a limit with
    /// `REFUSED_PUSH_COST` pushes' worth of its allowance (as much as is left). Our client
    /// never sends such a push, so only a broken or hostile device pays: a stolen token
    /// sending garbage gets ~10 tries a minute instead of 600, and then 429s that cost the
    /// relay no body read.
    pub(crate) fn charge_refused_push(&self, device_id: &str) {
        let Some(limiter) = &self.push else {
            return;
        };
        let key = device_id.to_string();
        for _ in 0..REFUSED_PUSH_COST {
            if limiter.check_key(&key).is_err() {
                return;
            }
        }
    }

    fn push(&self, device_id: &str) -> Result<(), AppError> {
        check(&self.push, &self.clock, &device_id.to_string())
    }

    pub(crate) fn pull(&self, device_id: &str) -> Result<(), AppError> {
        check(&self.pull, &self.clock, &device_id.to_string())
    }

    /// Forgets keys whose buckets are full again, so the tables stay as small as the set
    /// of recently active clients (address scans would otherwise grow them for good).
    pub(crate) fn forget_idle(&self) {
        for l in [&self.push, &self.pull].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.join {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_has_at_most_its_in_flight_pushes() {
        let r = Arc::new(RateLimits::new(&Limits {
            pushes_in_flight_per_device: 2,
            ..Limits::default()
        }));
        let a = r.push_slot("dev-a").expect("first");
        let _b = r.push_slot("dev-a").expect("second");
        assert!(matches!(
            r.push_slot("dev-a"),
            Err(AppError::RateLimited(1))
        ));
        assert!(r.push_slot("dev-b").is_ok());
        drop(a);
        assert!(r.push_slot("dev-a").is_ok());
    }

    #[test]
    fn a_trusted_proxy_names_the_client_by_its_last_forwarded_entry() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(forwarded_for(&h), None);
        h.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().expect("hv"),
        );
        assert_eq!(forwarded_for(&h), "198.51.100.4".parse().ok());
        h.append("x-forwarded-for", "2001:db8::7".parse().expect("hv"));
        assert_eq!(forwarded_for(&h), "2001:db8::7".parse().ok());
        let peer: IpAddr = "127.0.0.1".parse().expect("ip");
        let limited = |trust| {
            let r = RateLimits::new(&Limits {
                join_per_minute: 1,
                trust_forwarded_for: trust,
                ..Limits::default()
            });
            let mut a = axum::http::HeaderMap::new();
            a.insert("x-forwarded-for", "192.0.2.1".parse().expect("hv"));
            let mut b = axum::http::HeaderMap::new();
            b.insert("x-forwarded-for", "192.0.2.2".parse().expect("hv"));
            (r.join(peer, &a).is_ok(), r.join(peer, &b).is_ok())
        };
        // Trusted: two clients behind the proxy, one allowance each.
        assert_eq!(limited(true), (true, true));
        // Not trusted: the header is ignored, both count as the proxy's address.
        assert_eq!(limited(false), (true, false));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn a_burst_spends_the_allowance_then_429_says_when_to_retry() {
        let limits = Limits {
            push_per_minute: 3,
            ..Limits::default()
        };
        let r = RateLimits::new(&limits);
        let r = Arc::new(r);
        for _ in 0..3 {
            assert!(r.push_slot("dev-a").is_ok());
        }
        match r.push_slot("dev-a") {
            Err(AppError::RateLimited(secs)) => assert!((1..=20).contains(&secs), "{secs}"),
            Err(other) => panic!("expected 429, got {other:?}"),
            Ok(_) => panic!("expected 429, got a slot"),
        }
        // Another device has its own allowance; a zero limit is no limit.
        assert!(r.push_slot("dev-b").is_ok());
        let off = RateLimits::new(&Limits {
            pull_per_minute: 0,
            ..Limits::default()
        });
        for _ in 0..10_000 {
            assert!(off.pull("dev-a").is_ok());
        }
    }
}
