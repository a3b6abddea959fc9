//! `logbook-relay`: the Co-op Logbook relay, a scoped log of opaque blobs.
//!
//! Devices push blobs (automerge chunks, later ciphertext) tagged with a document id whose
//! first segment is the scope; the relay appends them to a per-coop log and lets each
//! device pull, with one indexed query, everything after its cursor that its grant may
//! read. The wire protocol is in docs/PROTOCOL.md.
//!
//! Files, top-down:
//! - `lib.rs`: this public API: [`RelayConfig`], [`start`], [`RunningRelay`].
//! - `error.rs`: [`RelayError`] (library) and `AppError` (HTTP answers).
//! - `access.rs`: the access table as pure functions.
//! - `limits.rs`: [`Limits`]: timeouts, connection cap, rate limits, quotas.
//! - `decode.rs`: push bodies decoded with the batch limits applied while decoding.
//! - `credentials.rs`: join codes, device tokens, ids.
//! - `store/`: the [`store::RelayStore`] trait and its SQLite implementation (`mod.rs`),
//!   the PostgreSQL one (`postgres.rs`), and [`store::Database`] choosing between them.
//! - `http.rs`: routes and handlers.
//! - `admin.rs`: operator commands on the data directory, backup and restore.
//! - `metrics.rs`: `/metrics` on its own listener (off by default).
//! - `check.rs`: `logbook-relay check`, a configuration's dry run.
//! - `main.rs`: the `logbook-relay` binary (`serve`, `check`, `admin ...`).

pub mod access;
pub mod admin;
pub mod check;
pub mod credentials;
mod decode;
mod error;
mod http;
pub mod limits;
pub mod metrics;
pub mod store;

/// Entry points for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::decode::{PushDecodeError, decode_push};
}

pub use error::RelayError;
pub use limits::Limits;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a graceful shutdown waits for in-flight requests before closing connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Where the relay keeps its data and where it listens.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Holds `relay.sqlite3` (created if missing). Unused when `postgres` is set.
    pub data_dir: PathBuf,
    /// Keep everything in this PostgreSQL database instead of the SQLite file; several
    /// relay processes may share it.
    pub postgres: Option<store::PgTarget>,
    /// Port 0 picks a free port; see [`RunningRelay::addr`].
    pub listen: SocketAddr,
    /// Serve HTTPS with these PEM files; `None` for plain HTTP (e.g. behind a proxy).
    pub tls: Option<TlsFiles>,
    /// Timeouts, connection cap, rate limits and quotas (generous defaults).
    pub limits: Limits,
    /// Accept `Content-Encoding: gzip` request bodies and advertise that in every
    /// response's `Accept-Encoding: gzip` (RFC 7694), so clients compress their pushes.
    /// Default on; off, the relay answers as relays before compressed requests did (a
    /// compressed body is then unreadable), which is what client fallback is tested on.
    pub gzip_requests: bool,
    /// Serve `GET /metrics` (Prometheus text format) on this address; `None` (the
    /// default): no metrics are kept or served.
    pub metrics_listen: Option<SocketAddr>,
}

/// PEM certificate chain and private key for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl RelayConfig {
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        RelayConfig {
            data_dir: data_dir.into(),
            postgres: None,
            listen,
            tls: None,
            limits: Limits::default(),
            gzip_requests: true,
            metrics_listen: None,
        }
    }
}

impl RelayConfig {
    /// The store this configuration names: PostgreSQL if set, else the data directory.
    pub fn database(&self) -> store::Database {
        match &self.postgres {
            Some(target) => store::Database::Postgres(target.clone()),
            None => store::Database::Sqlite(self.data_dir.clone()),
        }
    }
}

/// A relay serving on the current tokio runtime.
pub struct RunningRelay {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    metrics: Option<(SocketAddr, tokio::task::JoinHandle<()>)>,
}

impl RunningRelay {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for clients, e.g. `http://127.0.0.1:8787` (loopback when bound to all
    /// interfaces).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            });
        }
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{addr}")
    }

    /// The address `/metrics` is served on, if metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, _)| *addr)
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 30 s), and
    /// returns when the server has stopped.
    pub async fn shutdown(self) {
        if let Some((_, task)) = &self.metrics {
            task.abort();
        }
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "relay server ended with an error"),
            Err(e) => tracing::warn!(error = %e, "relay server task failed"),
        }
    }
}

/// Binds (port 0 allowed), opens/creates the store, spawns the server on the current
/// tokio runtime.
pub async fn start(config: RelayConfig) -> Result<RunningRelay, RelayError> {
    let database = config.database();
    let limits = config.limits.clone();
    let quotas = store::Quotas {
        coop_bytes: limits.coop_quota_bytes,
        device_bytes: limits.device_quota_bytes,
    };
    let store = tokio::task::spawn_blocking(move || database.open(quotas))
        .await
        .map_err(|_| RelayError::Task)??;
    let generation = store.log_generation()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let metrics = config.metrics_listen.map(|_| {
        Arc::new(metrics::Metrics::new(
            slots.clone(),
            limits.max_connections.max(1),
        ))
    });
    let rate = Arc::new(limits::RateLimits::new(&limits));
    forget_idle_rate_keys(Arc::downgrade(&rate));
    sweep_tombstones(Arc::downgrade(&store), limits.tombstone_sweep);
    let app = http::router(
        store,
        rate,
        limits.request_timeout,
        config.gzip_requests,
        generation,
        metrics.clone(),
    )
    .into_make_service_with_connect_info::<SocketAddr>();
    let listener = listen(config.listen)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let task = match &config.tls {
        Some(tls) => {
            // Several rustls providers may be linked in; this one is the relay's choice.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| RelayError::Tls(e.to_string()))?;
            let mut server = axum_server::from_tcp_rustls(listener, rustls)?
                .map(|tls| limits::GuardedAcceptor::new(tls, slots.clone(), &limits))
                .handle(handle.clone());
            configure_http(&mut server, &limits);
            let server = server.first_request_timeout(limits.header_timeout);
            tokio::spawn(server.serve(app))
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?
                .map(|plain| limits::GuardedAcceptor::new(plain, slots.clone(), &limits))
                .handle(handle.clone());
            configure_http(&mut server, &limits);
            let server = server.first_request_timeout(limits.header_timeout);
            tokio::spawn(server.serve(app))
        }
    };
    let metrics = match (metrics, config.metrics_listen) {
        (Some(metrics), Some(at)) => Some(serve_metrics(metrics, at)?),
        _ => None,
    };
    tracing::info!(%addr, tls = config.tls.is_some(), "relay listening");
    Ok(RunningRelay {
        addr,
        tls: config.tls.is_some(),
        handle,
        task,
        metrics,
    })
}

/// Serves `GET /metrics` on its own listener (plain HTTP: bind it to loopback or a
/// private network, never the public address).
fn serve_metrics(
    metrics: Arc<metrics::Metrics>,
    at: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), RelayError> {
    let listener = std::net::TcpListener::bind(at)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics::serve_metrics))
        .with_state(metrics);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "metrics listener ended");
        }
    });
    tracing::info!(%addr, "metrics listening");
    Ok((addr, task))
}

/// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`). std's
/// `TcpListener::bind` asks for 128: when hundreds of phones reconnect at once (after a
/// relay restart, or after the keep-alive timeout) while attackers hold the accept loop
/// busy, the queue overflowed and clients waited for SYN retries (1, 3, 7 s); the hostile
/// bench counted ~170 overflows a run (`nstat TcpExtListenOverflows`).
const LISTEN_BACKLOG: i32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std does on Unix: a restarted relay can bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// hyper's own limits: headers must arrive within the header timeout (hyper starts that
/// clock when it waits for a request, so it also closes idle keep-alive connections), and
/// an HTTP/2 connection carries a bounded number of requests at once.
fn configure_http<A>(server: &mut axum_server::Server<SocketAddr, A>, limits: &Limits) {
    let builder = server.http_builder();
    builder.http1().header_read_timeout(limits.header_timeout);
    builder.http2().max_concurrent_streams(64);
}

/// Every minute, drops rate-limit entries of clients that have been quiet long enough to
/// be back at a full allowance. Ends once the relay (the last strong reference) is gone.
fn forget_idle_rate_keys(rate: std::sync::Weak<limits::RateLimits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            match rate.upgrade() {
                Some(rate) => rate.forget_idle(),
                None => return,
            }
        }
    });
}

/// Every `every`, removes tombstones that all of a coop's devices have pulled past (see
/// `RelayStore::sweep_tombstones`). Ends once the relay's store is gone.
fn sweep_tombstones(store: std::sync::Weak<dyn store::RelayStore>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(store) = store.upgrade() else {
                return;
            };
            match tokio::task::spawn_blocking(move || store.sweep_tombstones()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(tombstones = n, "swept tombstones"),
                Ok(Err(e)) => tracing::warn!(error = %e, "tombstone sweep failed"),
                Err(_) => tracing::warn!("tombstone sweep task failed"),
            }
        }
    });
}
