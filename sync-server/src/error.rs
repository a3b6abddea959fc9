//! Two error layers: [`RelayError`] is the rich internal error of the library (storage,
//! I/O, configuration); [`AppError`] is what an HTTP client sees. Every handler returns
//! `Result<_, AppError>` and `AppError` turns itself into a JSON [`ErrorBody`] in one place.
//!
//! Messages are fixed strings: they never carry ids, names, codes, tokens or blob bytes,
//! and never echo what a client sent (serde error texts can quote input, so they are
//! dropped, not forwarded).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use logbook_protocol::ErrorBody;

/// The library's error.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A PostgreSQL error: its SQLSTATE (and constraint name) or the connection failure,
    /// never the server's message text or detail (they can quote stored values).
    #[error("database error: {0}")]
    Postgres(String),
    /// A caller passed something unusable (an empty coop name, a bad grant, ...).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// No such coop or device; the text says which.
    #[error("{0}")]
    NotFound(&'static str),
    /// Something read back from the store does not parse (a grant's JSON, say).
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    #[error("the relay database has schema version {0}, newer than this relay understands")]
    NewerSchema(i64),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("background task failed")]
    Task,
    /// A push would take a coop or device over its storage quota; the text says which.
    #[error("{0}")]
    QuotaExceeded(&'static str),
    /// The device was revoked while its request was in flight.
    #[error("device revoked")]
    Revoked,
}

/// What the HTTP layer answers. Each variant maps to one status code.
#[derive(Debug)]
pub enum AppError {
    /// 400: malformed body, query or id.
    BadRequest(&'static str),
    /// 401: missing, unknown or revoked credential; unusable join code.
    Unauthorized(&'static str),
    /// 403: authenticated, but the grant does not allow this.
    Forbidden(&'static str),
    /// 404: unknown route or device.
    NotFound(&'static str),
    /// 409: conflicts with what is stored (a device's keys never change).
    Conflict(&'static str),
    /// 405: known route, other method.
    MethodNotAllowed,
    /// 413: body, blob or batch over the protocol limits.
    TooLarge(&'static str),
    /// 415: wrong `Content-Type`.
    UnsupportedMediaType(&'static str),
    /// 408: the request took longer than the relay's request timeout.
    Timeout,
    /// 429: over a rate limit; retry after this many seconds (`Retry-After`).
    RateLimited(u64),
    /// 507: the push would exceed a storage quota.
    QuotaExceeded(&'static str),
    /// 500: storage failure or bug. Details go to the log, not to the client.
    Internal,
    /// 500 as well, counted apart: the store failed (SQLite, I/O, corrupt data).
    Store,
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            AppError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            ),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            AppError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            ),
            AppError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request took too long; retry it",
            ),
            AppError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; retry after the seconds in Retry-After",
            ),
            AppError::QuotaExceeded(m) => (StatusCode::INSUFFICIENT_STORAGE, "quota_exceeded", m),
            AppError::Internal | AppError::Store => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            ),
        }
    }
}

impl From<RelayError> for AppError {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Invalid(m) => AppError::BadRequest(m),
            RelayError::NotFound(what) => AppError::NotFound(what),
            RelayError::QuotaExceeded(what) => AppError::QuotaExceeded(what),
            RelayError::Revoked => AppError::Unauthorized("invalid or revoked token"),
            other => {
                // rusqlite, PostgreSQL and io errors name statements and paths, never bound
                // values.
                tracing::error!(error = %other, "request failed");
                match other {
                    RelayError::Storage(_)
                    | RelayError::Io(_)
                    | RelayError::Corrupt(_)
                    | RelayError::Postgres(_) => AppError::Store,
                    _ => AppError::Internal,
                }
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, error, message) = self.parts();
        let body = ErrorBody {
            error: error.to_string(),
            message: message.to_string(),
        };
        let mut res = (status, axum::Json(body)).into_response();
        match self {
            AppError::RateLimited(secs) => {
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
            }
            AppError::Store => {
                res.extensions_mut().insert(crate::metrics::StoreFailure);
            }
            _ => {}
        }
        res
    }
}
