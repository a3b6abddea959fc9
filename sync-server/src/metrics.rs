//! `/metrics` in the Prometheus (OpenMetrics) text format, served on its own listen
//! address and only when the operator asks for one (`--metrics-listen`). Labels are route
//! TEMPLATES (`/v1/devices/{id}/revoke`), methods and status codes: never a coop, device
//! or person id, never a query value. Nothing is recorded when metrics are off.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The relay's metrics; one per running relay.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    push_documents: Histogram,
    push_blobs: Histogram,
    push_bytes: Histogram,
    store_errors: Counter,
    rate_limited: Family<RouteLabels, Counter>,
    open_connections: Gauge,
    /// The connection slots (see `limits::GuardedAcceptor`): open = cap - free.
    slots: Arc<Semaphore>,
    max_connections: usize,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// Left in a response by `AppError` when the store failed (SQLite, I/O, corrupt data).
#[derive(Clone, Copy)]
pub(crate) struct StoreFailure;

impl Metrics {
    pub(crate) fn new(slots: Arc<Semaphore>, max_connections: usize) -> Metrics {
        let mut registry = Registry::with_prefix("logbook_relay");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to response, by route template",
            latency.clone(),
        );
        let push_documents = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "push_documents",
            "Documents per accepted push",
            push_documents.clone(),
        );
        let push_blobs = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register("push_blobs", "Blobs per accepted push", push_blobs.clone());
        let push_bytes = Histogram::new(exponential_buckets(256.0, 4.0, 10));
        registry.register(
            "push_bytes",
            "Blob bytes per accepted push",
            push_bytes.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Requests that failed in the store (answered 500)",
            store_errors.clone(),
        );
        let rate_limited = Family::<RouteLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429 (rate limit or pushes in flight), by route template",
            rate_limited.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "open_connections",
            "Client connections open now",
            open_connections.clone(),
        );
        let connection_limit = Gauge::<i64>::default();
        connection_limit.set(i64::try_from(max_connections).unwrap_or(i64::MAX));
        registry.register(
            "connection_limit",
            "Most client connections open at once (--max-connections)",
            connection_limit,
        );
        Metrics {
            registry,
            requests,
            latency,
            push_documents,
            push_blobs,
            push_bytes,
            store_errors,
            rate_limited,
            open_connections,
            slots,
            max_connections,
        }
    }

    /// Records an accepted push's size.
    pub(crate) fn observe_push(&self, documents: usize, blobs: usize, bytes: usize) {
        self.push_documents.observe(documents as f64);
        self.push_blobs.observe(blobs as f64);
        self.push_bytes.observe(bytes as f64);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let open = self
            .max_connections
            .saturating_sub(self.slots.available_permits());
        self.open_connections
            .set(i64::try_from(open).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Middleware: counts and times every request by its route template.
pub(crate) async fn record(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    if status == 429 {
        metrics
            .rate_limited
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .inc();
    }
    if res.extensions().get::<StoreFailure>().is_some() {
        metrics.store_errors.inc();
    }
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .inc();
    res
}

/// `GET /metrics` on the metrics listener.
pub(crate) async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
