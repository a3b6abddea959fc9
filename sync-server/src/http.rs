//! The HTTP API (see docs/PROTOCOL.md): routes, the bearer-token extractor, and one
//! handler per endpoint. Handlers check the request, ask `access` whether the device may
//! do it, and run the storage work on the blocking pool.

use crate::access::{self, ReadFilter};
use crate::admin::{mint_join_code, now};
use crate::credentials;
use crate::decode::{PushDecodeError, check_prefix, decode_push};
use crate::error::AppError;
use crate::limits::{PushSlot, RateLimits, request_timeout};
use crate::metrics::Metrics;
use crate::store::{CheckedDoc, DeviceRecord, KeysSet, NewDevice, RelayStore};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Query,
    Request, State,
};
use axum::http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use logbook_protocol::{
    self as proto, CBOR_MEDIA_TYPE, ConsentRequest, DeleteDocRequest, DeviceKeysEntry,
    DeviceKeysRequest, DevicesResponse, InviteEnvelopeRequest, InviteRequest, InviteResponse,
    JoinRequest, JoinResponse, KeyDeliveryRequest, KeysResponse, MeResponse, PushRequest, Role,
    Scope,
};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

#[derive(Clone)]
pub(crate) struct AppState {
    store: Arc<dyn RelayStore>,
    rate: Arc<RateLimits>,
    /// The store's log generation, read at start (it changes only by a restore, which
    /// writes a new data directory).
    generation: Option<Arc<str>>,
    /// Present when the operator asked for `/metrics`.
    metrics: Option<Arc<Metrics>>,
}

/// The whole API as an axum router. `request_limit` bounds each request's time (see
/// `limits::request_timeout`); `gzip_requests` accepts gzipped request bodies.
pub(crate) fn router(
    store: Arc<dyn RelayStore>,
    rate: Arc<RateLimits>,
    request_limit: Duration,
    gzip_requests: bool,
    generation: Option<String>,
    metrics: Option<Arc<Metrics>>,
) -> Router {
    // JSON control bodies are small; only push needs the 8 MiB (set on the whole router
    // below, the route-level limit wins). A small limit keeps a flood of big JSON bodies
    // from costing megabytes each.
    let small = || DefaultBodyLimit::max(proto::MAX_JSON_BODY_BYTES);
    let v1 = Router::new()
        .route("/join", post(join).layer(small()))
        .route("/me", get(me))
        .route("/invites", post(invite).layer(small()))
        .route(
            "/invites/envelope",
            put(invite_envelope).layer(DefaultBodyLimit::max(
                2 * proto::MAX_KEY_ENVELOPE_BYTES + 1024,
            )),
        )
        .route("/keys/me", put(put_keys).layer(small()))
        .route("/keys", get(get_keys))
        .route(
            "/keys/wrapped",
            post(deliver_keys).layer(DefaultBodyLimit::max(proto::MAX_KEY_BODY_BYTES)),
        )
        .route("/coop/sealed-only", post(sealed_only))
        .route("/migrate/own-plaintext", post(own_plaintext).layer(small()))
        .route("/migrate/orphaned", post(orphaned).layer(small()))
        .route(
            "/keys/wrapped/ack",
            post(ack_wrapped).layer(DefaultBodyLimit::max(proto::MAX_KEY_BODY_BYTES)),
        )
        .route("/devices", get(devices))
        .route("/devices/{id}/revoke", post(revoke).layer(small()))
        .route("/consent/{person}", put(consent).layer(small()))
        .route("/push", post(push))
        .route("/pull", get(pull))
        .route("/docs/delete", post(delete_doc).layer(small()));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest(proto::API_PREFIX, v1)
        .fallback(|| async { AppError::NotFound("no such route") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(AppState {
            store,
            rate,
            generation: generation.map(Arc::from),
            metrics: metrics.clone(),
        })
        // Responses are gzipped for clients that ask (Accept-Encoding): pull pages of
        // automerge changes shrink about 5x, which is what a slow mobile link needs.
        // Clients that do not ask get them as before.
        .layer(CompressionLayer::new());
    let app = if gzip_requests {
        app
            // Request bodies with `Content-Encoding: gzip` are inflated as the handler
            // reads them, so the body limits (`DefaultBodyLimit` and `PushBody`, applied
            // to what the handler reads) count DECOMPRESSED bytes: a zip bomb stops at
            // 8 MiB (16 KiB for JSON routes) with 413, in bounded memory. A
            // request refused before its body is read (auth, rate limit) is never
            // inflated. Other encodings get 415 with `Accept-Encoding: gzip`.
            .layer(RequestDecompressionLayer::new())
            .layer(middleware::from_fn(limit_encoded_body))
    } else {
        app
    };
    let app = app
        .layer(middleware::from_fn_with_state(
            request_limit,
            request_timeout,
        ))
        .layer(middleware::from_fn(server_timing));
    let app = match metrics {
        Some(metrics) => app.layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::record,
        )),
        None => app,
    };
    let app = app
        .layer(
            // Logged per request: method, route template, status, latency, device id.
            // Never the URI (it can hold a person id), headers, bodies or query values.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(MatchedPath::as_str)
                        .unwrap_or("unmatched");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        route,
                        device = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_us = latency.as_micros() as u64,
                        "response"
                    );
                })
                .on_failure(()),
        )
        .layer(DefaultBodyLimit::max(proto::MAX_BODY_BYTES));
    if gzip_requests {
        // Outermost, so every answer says it, timeouts (408) included: a client must not
        // conclude from an error that the relay stopped taking gzip.
        app.layer(middleware::map_response(advertise_gzip_requests))
    } else {
        app
    }
}

/// Compressed bytes of an encoded request body are bounded as well as its decompressed
/// bytes: a declared length over `MAX_BODY_BYTES` is refused before anything is read, and
/// the stream is cut off there otherwise (read error, 400), so a gzip stream of empty
/// blocks, which inflates to nothing, cannot stream on until the request timeout.
async fn limit_encoded_body(req: Request, next: Next) -> Response {
    if !req.headers().contains_key(CONTENT_ENCODING) {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > proto::MAX_BODY_BYTES as u64) {
        return AppError::TooLarge("request body too large").into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, proto::MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, body)).await
}

/// `Accept-Encoding: gzip` on every response (RFC 7694, section 3): how a client learns
/// that this relay takes gzipped request bodies. Relays without it never say so, and
/// clients then send plain bodies.
async fn advertise_gzip_requests(mut res: Response) -> Response {
    res.headers_mut()
        .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    res
}

/// Adds `Server-Timing: app;dur=<ms>`: the relay's own handling time, so clients and
/// benchmarks can tell server time from network time.
async fn server_timing(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let mut res = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

/// Runs storage work off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| AppError::Internal)?
}

// ---------- request helpers ----------

fn content_type_is(headers: &HeaderMap, media_type: &str) -> Option<bool> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.eq_ignore_ascii_case(media_type))
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge("request body too large")
        } else {
            AppError::BadRequest("unreadable request body")
        }
    })
}

/// A JSON control body. `Content-Type` may be absent; if present it must be JSON.
fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AppError> {
    if content_type_is(headers, "application/json") == Some(false) {
        return Err(AppError::UnsupportedMediaType(
            "expected Content-Type: application/json",
        ));
    }
    let bytes = body_bytes(body)?;
    // serde's message can quote the input, so it is not passed on.
    serde_json::from_slice(&bytes).map_err(|_| AppError::BadRequest("malformed JSON body"))
}

fn cbor_response(body: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, CBOR_MEDIA_TYPE)], body).into_response()
}

// ---------- authentication ----------

/// An authenticated device: extracting it checks `Authorization: Bearer <token>`.
pub(crate) struct Device(DeviceRecord);

/// How often `last_seen_at` is written for an active device, in seconds.
const LAST_SEEN_GRANULARITY: i64 = 60;

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or(AppError::Unauthorized("missing bearer token"))?;
        let (device_id, presented) = credentials::parse_device_token(token.trim())
            .ok_or(AppError::Unauthorized("invalid or revoked token"))?;
        let device_id = device_id.to_string();
        let store = state.store.clone();
        let record = blocking(move || {
            let now = now();
            let Some(record) = store.device(&device_id)? else {
                return Ok(None);
            };
            if record.revoked || !credentials::hashes_match(&presented, &record.token_hash) {
                return Ok(None);
            }
            if record
                .last_seen_at
                .is_none_or(|t| now - t >= LAST_SEEN_GRANULARITY)
            {
                // Bookkeeping only: a busy database must not fail the request.
                if let Err(e) = store.touch_device(&device_id, now) {
                    tracing::warn!(error = %e, "could not record last_seen");
                }
            }
            Ok(Some(record))
        })
        .await?
        .ok_or(AppError::Unauthorized("invalid or revoked token"))?;
        Span::current().record("device", record.device_id.as_str());
        parts
            .extensions
            .insert(Authenticated(record.device_id.clone()));
        Ok(Device(record))
    }
}

/// Left in the request by [`Device`] for extractors that run after it.
#[derive(Clone)]
struct Authenticated(String);

/// A push within the device's rate limit and in-flight cap, holding its slot until the
/// handler returns. Extracted after [`Device`] and before the body, so a refused push's
/// 8 MiB body is never read.
pub(crate) struct PushAllowed {
    _slot: PushSlot,
}

impl FromRequestParts<AppState> for PushAllowed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(Authenticated(device_id)) = parts.extensions.get::<Authenticated>() else {
            return Err(AppError::Unauthorized("missing bearer token"));
        };
        // Over the limit: `429` at once. A 1 s "tarpit" before it was measured (docs/
        // PERFORMANCE.md, hostile bench): it cut the attack's CPU but every run with it
        // lost 21-66 legitimate requests to the header timeout, and none without it.
        Ok(PushAllowed {
            _slot: state.rate.push_slot(device_id)?,
        })
    }
}

/// A join within the client address's rate limit. Extracted before the body, so a guess
/// over the limit costs the relay no body read and no JSON parse.
pub(crate) struct JoinAllowed;

impl FromRequestParts<AppState> for JoinAllowed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or(AppError::Internal)?;
        state.rate.join(client, &parts.headers)?;
        Ok(JoinAllowed)
    }
}

/// How much of a push body is read before its beginning is checked (see `PushBody`).
const PUSH_PREFIX_CHECK: usize = 64 * 1024;

/// A push body, read with the 8 MiB limit (on decompressed bytes). A `Content-Type` other
/// than CBOR is refused before any byte is read. A declared length over the limit, or a
/// body whose first 64 KiB are malformed or already over a count limit (e.g. 8 MiB of
/// millions of empty blobs), is refused without keeping or decoding the rest (which is
/// read and dropped, up to the limit). Those refusals charge the device's push allowance
/// (see `RateLimits::charge_refused_push`): a real client never sends such a body.
pub(crate) struct PushBody(Bytes);

impl FromRequest<AppState> for PushBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        use http_body_util::BodyExt;
        if content_type_is(req.headers(), CBOR_MEDIA_TYPE) != Some(true) {
            return Err(AppError::UnsupportedMediaType(
                "expected Content-Type: application/cbor",
            ));
        }
        let device = req.extensions().get::<Authenticated>().cloned();
        const TOO_LARGE: AppError = AppError::TooLarge("request body too large");
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut body = req.into_body();
        // No more room up front than the prefix check needs: the declared length is the
        // client's word.
        let room = declared.map_or(8 * 1024, |n| n.min(PUSH_PREFIX_CHECK as u64) as usize);
        let mut buf = Vec::with_capacity(room);
        let mut refused = declared
            .is_some_and(|n| n > proto::MAX_BODY_BYTES as u64)
            .then_some(TOO_LARGE);
        let mut read = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| AppError::BadRequest("unreadable request body"))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            read += data.len();
            if read > proto::MAX_BODY_BYTES {
                refused.get_or_insert(TOO_LARGE);
                break;
            }
            if refused.is_some() {
                // Already refused: the rest is read and dropped, neither kept nor decoded,
                // so the connection ends cleanly and the client gets the answer (closing
                // with unread bytes would reset it before the client reads the answer).
                continue;
            }
            buf.extend_from_slice(&data);
            if buf.len() >= PUSH_PREFIX_CHECK && buf.len() - data.len() < PUSH_PREFIX_CHECK {
                refused = match check_prefix(&buf) {
                    None => None,
                    Some(PushDecodeError::TooLarge(m)) => Some(AppError::TooLarge(m)),
                    Some(PushDecodeError::Malformed) => {
                        Some(AppError::BadRequest("malformed CBOR push body"))
                    }
                };
                if refused.is_some() {
                    buf = Vec::new();
                }
            }
        }
        match refused {
            None => Ok(PushBody(Bytes::from(buf))),
            Some(e) => {
                if let Some(Authenticated(id)) = &device {
                    state.rate.charge_refused_push(id);
                }
                Err(e)
            }
        }
    }
}

fn require_coordinator(device: &DeviceRecord) -> Result<(), AppError> {
    if device.grant.role == Role::Coordinator {
        Ok(())
    } else {
        Err(AppError::Forbidden("coordinators only"))
    }
}

// ---------- handlers ----------

async fn join(
    State(st): State<AppState>,
    // Before anything else (the body included): guessing codes must stay slow whatever
    // the guesses look like.
    _allowed: JoinAllowed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<JoinResponse>, AppError> {
    let req: JoinRequest = json_body(&headers, body)?;
    let name = req.device_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "device_name must be 1-100 printable characters",
        ));
    }
    const BAD_CODE: AppError = AppError::Unauthorized("join code is invalid, used or expired");
    let code_hash = credentials::join_code_hash(&req.code).ok_or(BAD_CODE)?;
    let device_id = credentials::new_device_id();
    let (token, token_hash) = credentials::new_device_token(&device_id);
    let store = st.store.clone();
    let id = device_id.clone();
    let joined = blocking(move || {
        let device = NewDevice {
            device_id: &id,
            name: &name,
            token_hash,
        };
        Ok(store.redeem_join_code(&code_hash, device, now())?)
    })
    .await?
    .ok_or(BAD_CODE)?;
    Span::current().record("device", device_id.as_str());
    Ok(Json(JoinResponse {
        device_id,
        token,
        coop_id: joined.coop_id,
        coop_name: joined.coop_name,
        grant: joined.grant,
        key_envelope: joined.key_envelope.map(hex::encode),
    }))
}

async fn me(Device(d): Device) -> Json<MeResponse> {
    Json(MeResponse {
        device_id: d.device_id,
        coop_id: d.coop_id,
        coop_name: d.coop_name,
        grant: d.grant,
    })
}

async fn invite(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InviteResponse>, AppError> {
    require_coordinator(&d)?;
    let req: InviteRequest = json_body(&headers, body)?;
    let store = st.store.clone();
    let (code, expires_at) = blocking(move || {
        let minted = mint_join_code(
            store.as_ref(),
            &d.coop_id,
            &req.grant,
            req.expires_in_hours,
            now(),
        )?;
        if let Some(hash) = credentials::join_code_hash(&minted.0) {
            store.set_join_code_creator(&hash, &d.device_id)?;
        }
        Ok(minted)
    })
    .await?;
    Ok(Json(InviteResponse { code, expires_at }))
}

/// Leave the key envelope for a join code this coop issued (see docs/SECURITY.md: the
/// relay stores it but cannot open it).
async fn invite_envelope(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    require_coordinator(&d)?;
    let req: InviteEnvelopeRequest = json_body(&headers, body)?;
    let envelope = hex::decode(&req.envelope)
        .ok()
        .filter(|e| !e.is_empty() && e.len() <= proto::MAX_KEY_ENVELOPE_BYTES)
        .ok_or(AppError::BadRequest(
            "envelope must be hex, at most 512 KiB",
        ))?;
    const NO_CODE: AppError = AppError::NotFound("no unused join code of this coop");
    let code_hash = credentials::join_code_hash(&req.code).ok_or(NO_CODE)?;
    let store = st.store.clone();
    let stored = blocking(move || {
        Ok(store.set_invite_envelope(&d.coop_id, &code_hash, &envelope, now())?)
    })
    .await?;
    if stored {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NO_CODE)
    }
}

/// Register this device's public keys, once. Their key id names the device's own
/// documents, so it must be free in the coop; the grant inside must be the device's.
async fn put_keys(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let req: DeviceKeysRequest = json_body(&headers, body)?;
    const BAD: AppError = AppError::BadRequest("keys must be hex device public keys");
    let bytes = hex::decode(&req.keys).map_err(|_| BAD)?;
    let keys = logbook_crypto::DevicePublicKeys::from_bytes(&bytes).map_err(|_| BAD)?;
    if keys.grant != d.grant || proto::validate_entity_id(&keys.device_id).is_err() {
        return Err(AppError::BadRequest(
            "the keys' grant must be this device's and their id an entity id",
        ));
    }
    let proof = req
        .proof
        .map(|p| hex::decode(p).ok().filter(|p| p.len() == 32))
        .map(|p| p.ok_or(AppError::BadRequest("proof must be 32 bytes of hex")))
        .transpose()?;
    let mut pair = keys.signing.to_vec();
    pair.extend_from_slice(&keys.encryption);
    let fingerprint = credentials::sha256(&pair);
    let store = st.store.clone();
    let set = blocking(move || {
        // Without a join proof, keys are taken on first use: a device that joined before
        // end-to-end encryption upgrading, or a coop's first coordinator. Not once the
        // coop is sealed only (docs/SECURITY.md, Migration from plaintext).
        if proof.is_none() && store.sealed_only(&d.coop_id)? {
            return Err(AppError::Forbidden(
                "this coop is sealed only: keys are registered with a join proof",
            ));
        }
        Ok(store.set_device_keys(
            &d.coop_id,
            &d.device_id,
            &keys.device_id,
            fingerprint.as_slice(),
            &bytes,
            proof.as_deref(),
        )?)
    })
    .await?;
    match set {
        KeysSet::Stored | KeysSet::AlreadySet => Ok(StatusCode::NO_CONTENT),
        KeysSet::Conflict => Err(AppError::Conflict(
            "this device or its key id already has other keys",
        )),
    }
}

/// The coop's device keys and certificates, and the keys wrapped for the caller. Any
/// device of the coop may ask: public keys are public, and readers trust a device only
/// through its join proof or a certificate, never because the relay listed it.
async fn get_keys(
    State(st): State<AppState>,
    Device(d): Device,
) -> Result<Json<KeysResponse>, AppError> {
    let store = st.store.clone();
    let (
        crate::store::KeysListing {
            devices,
            wrapped,
            epoch,
        },
        sealed_only,
        consent,
    ) = blocking(move || {
        // The people whose consent this device may set: it is told what the relay holds
        // for them, so a withdrawal on another of their devices reaches it.
        let people: &[String] = match d.grant.role {
            Role::Worker => d.grant.person.as_slice(),
            Role::Supporter => &d.grant.supports,
            Role::Coordinator | Role::Kiosk => &[],
        };
        let consent = if people.is_empty() {
            Vec::new()
        } else {
            let consented = store.consented_people(&d.coop_id)?;
            people
                .iter()
                .filter(|p| access::may_set_consent(&d.grant, p))
                .map(|p| proto::PersonConsent {
                    person: p.clone(),
                    coordinator_notes: consented.contains(p),
                })
                .collect()
        };
        Ok((
            store.device_keys(&d.coop_id, &d.device_id)?,
            store.sealed_only(&d.coop_id)?,
            consent,
        ))
    })
    .await?;
    Ok(Json(KeysResponse {
        devices: devices
            .into_iter()
            .map(|r| DeviceKeysEntry {
                device_id: r.device_id,
                keys: hex::encode(r.public_keys),
                proof: r.proof.map(hex::encode),
                certificates: r.certificates.into_iter().map(hex::encode).collect(),
                revoked: r.revoked,
            })
            .collect(),
        wrapped: wrapped.into_iter().map(hex::encode).collect(),
        epoch: Some(epoch),
        sealed_only,
        consent,
    }))
}

/// Store scope keys wrapped for devices of the coop, and device certificates. The relay
/// cannot open or forge either (recipients check the issuer's signature and grant); it
/// only checks the recipients are devices of this coop.
async fn deliver_keys(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let req: KeyDeliveryRequest = json_body(&headers, body)?;
    if req.wrapped.len() + req.certificates.len() > 10_000 {
        return Err(AppError::TooLarge("too many keys in one delivery"));
    }
    if !req.certificates.is_empty() {
        require_coordinator(&d)?;
    }
    const BAD: AppError = AppError::BadRequest("keys and certificates must be hex");
    let decode = |id: String, h: &str| -> Result<(String, Vec<u8>), AppError> {
        proto::validate_entity_id(&id).map_err(|_| BAD)?;
        let bytes = hex::decode(h).map_err(|_| BAD)?;
        if bytes.is_empty() || bytes.len() > 4096 {
            return Err(BAD);
        }
        Ok((id, bytes))
    };
    let wrapped = req
        .wrapped
        .into_iter()
        .map(|w| decode(w.to, &w.key))
        .collect::<Result<Vec<_>, _>>()?;
    let certificates = req
        .certificates
        .into_iter()
        .map(|c| decode(c.device_id, &c.certificate))
        .collect::<Result<Vec<_>, _>>()?;
    let store = st.store.clone();
    blocking(move || Ok(store.deliver_keys(&d.coop_id, &wrapped, &certificates)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Coordinators: make the coop "sealed only", the last step of its migration from
/// plaintext (docs/SECURITY.md). Refused with `409` and the counts while a non-revoked
/// device has no keys or a blob in the log is not sealed. Idempotent.
async fn sealed_only(State(st): State<AppState>, Device(d): Device) -> Result<Response, AppError> {
    require_coordinator(&d)?;
    let store = st.store.clone();
    let left = blocking(move || Ok(store.set_sealed_only(&d.coop_id)?)).await?;
    if left.is_empty() {
        return Ok(Json(proto::SealedOnlyResponse {
            sealed_only: true,
            keyless_devices: 0,
            plaintext_blobs: 0,
        })
        .into_response());
    }
    // Counts only: nothing that names a device, a document or a person.
    let body = proto::ErrorBody {
        error: "conflict".into(),
        message: format!(
            "plaintext remains in this coop: {} blob(s) not sealed, {} device(s) without \
             keys; every device must sync once with this version (which re-seals what it \
             pushed), or be revoked, before the coop can be sealed only",
            left.plaintext_blobs, left.keyless_devices
        ),
    };
    Ok((StatusCode::CONFLICT, Json(body)).into_response())
}

/// Migration from plaintext (docs/SECURITY.md): a page of the documents holding plaintext
/// blobs the caller pushed itself, with those blobs, so a device that forgot them (a
/// kiosk) can re-seal them. Its own blobs only, and nothing once the coop is sealed only.
async fn own_plaintext(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let (req, limit) = migrate_request(&st, &d, &headers, body)?;
    let store = st.store.clone();
    let page = blocking(move || {
        if store.sealed_only(&d.coop_id)? {
            return Ok((Vec::new(), false));
        }
        Ok(store.own_plaintext(
            &d.coop_id,
            &d.device_id,
            req.after.as_deref(),
            limit,
            proto::MAX_MIGRATE_BYTES,
        )?)
    })
    .await?;
    Ok(Json(migrate_page(page)).into_response())
}

/// Migration from plaintext: a page of the documents holding plaintext blobs of revoked
/// devices that never registered keys, with those blobs, among the documents the caller
/// may read and write, for it to re-seal them (docs/SECURITY.md, custody). Nothing once
/// the coop is sealed only.
async fn orphaned(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let (req, limit) = migrate_request(&st, &d, &headers, body)?;
    let store = st.store.clone();
    let page = blocking(move || {
        if store.sealed_only(&d.coop_id)? {
            return Ok((Vec::new(), None));
        }
        let (mut docs, more) = store.orphaned_plaintext(
            &d.coop_id,
            req.after.as_deref(),
            limit,
            proto::MAX_MIGRATE_BYTES,
        )?;
        // Only documents the caller may both read and write: it re-seals them with what
        // it holds. `next` still follows the unfiltered page.
        let consented = if d.grant.role == Role::Coordinator {
            store.consented_people(&d.coop_id)?
        } else {
            Vec::new()
        };
        let next = if more {
            docs.last().map(|x| x.doc.clone())
        } else {
            None
        };
        docs.retain(|x| {
            Scope::of_doc(&x.doc).is_ok_and(|scope| {
                let consent = scope
                    .person()
                    .is_some_and(|p| consented.iter().any(|c| c == p));
                access::may_write(&d.grant, &scope) && access::may_read(&d.grant, &scope, consent)
            })
        });
        Ok((docs, next))
    })
    .await?;
    let (docs, next) = page;
    let mut resp = migrate_page((docs, false));
    resp.next = next;
    Ok(Json(resp).into_response())
}

/// The migration listings are for devices that upgraded (registered keys): they serve
/// plaintext to seal, and a device without keys can seal nothing.
/// What both migration listings check and read first: the caller registered its keys,
/// is within its pull rate, and sent a page request; with the page's size, bounded.
fn migrate_request(
    st: &AppState,
    d: &DeviceRecord,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(proto::MigratePageRequest, u32), AppError> {
    require_keys(d)?;
    st.rate.pull(&d.device_id)?;
    let req: proto::MigratePageRequest = json_body(headers, body)?;
    let limit = req
        .limit
        .unwrap_or(proto::MAX_MIGRATE_DOCS)
        .clamp(1, proto::MAX_MIGRATE_DOCS);
    Ok((req, limit))
}

fn require_keys(device: &DeviceRecord) -> Result<(), AppError> {
    if device.public_keys.is_some() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "register this device's keys first (sync once with this version)",
        ))
    }
}

fn migrate_page(
    (docs, more): (Vec<crate::store::PlaintextDoc>, bool),
) -> proto::MigratePageResponse {
    let next = if more {
        docs.last().map(|d| d.doc.clone())
    } else {
        None
    };
    proto::MigratePageResponse {
        docs: docs
            .into_iter()
            .map(|d| proto::MigrateDoc {
                doc: d.doc,
                content_ids: d.blobs.iter().map(|(id, _)| id.clone()).collect(),
                blobs: d
                    .blobs
                    .iter()
                    .map(|(_, b)| hex::encode(b.as_deref().unwrap_or_default()))
                    .collect(),
            })
            .collect(),
        next,
    }
}

/// The caller holds these wrapped keys now: delete them (docs/SECURITY.md, *Erasure*:
/// a copy of the relay's database taken later then holds no key the device opened, so
/// a key version an erasure retired cannot be recovered from it with the device's own
/// key). Only the caller's own; unknown hashes are ignored.
async fn ack_wrapped(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let req: proto::WrappedKeysAck = json_body(&headers, body)?;
    if req.hashes.len() > 10_000 {
        return Err(AppError::TooLarge("too many keys in one acknowledgement"));
    }
    let hashes = req
        .hashes
        .iter()
        .map(|h| match hex::decode(h) {
            Ok(b) if b.len() == 32 => Ok(b),
            _ => Err(AppError::BadRequest("hashes must be hex SHA-256")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let store = st.store.clone();
    blocking(move || Ok(store.ack_wrapped(&d.device_id, &hashes)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn devices(
    State(st): State<AppState>,
    Device(d): Device,
) -> Result<Json<DevicesResponse>, AppError> {
    require_coordinator(&d)?;
    let store = st.store.clone();
    let devices = blocking(move || Ok(store.list_devices(&d.coop_id)?)).await?;
    Ok(Json(DevicesResponse { devices }))
}

async fn revoke(
    State(st): State<AppState>,
    Device(d): Device,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, AppError> {
    require_coordinator(&d)?;
    let Ok(Path(id)) = id else {
        return Err(AppError::NotFound("no such device"));
    };
    if proto::validate_entity_id(&id).is_err() {
        return Err(AppError::NotFound("no such device"));
    }
    let store = st.store.clone();
    blocking(move || Ok(store.revoke_device(Some(&d.coop_id), &id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn consent(
    State(st): State<AppState>,
    Device(d): Device,
    person: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    // Axum's own rejection text would quote the path; answer with a fixed message.
    let person = match person {
        Ok(Path(p)) if proto::validate_entity_id(&p).is_ok() => p,
        _ => return Err(AppError::BadRequest("invalid person id")),
    };
    if !access::may_set_consent(&d.grant, &person) {
        return Err(AppError::Forbidden(
            "only the person or their supporter may set consent",
        ));
    }
    let req: ConsentRequest = json_body(&headers, body)?;
    let store = st.store.clone();
    blocking(move || Ok(store.set_consent(&d.coop_id, &person, req.coordinator_notes, now())?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn is_content_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether a push's `supersedes` may remove blobs other devices pushed to a document of
/// `scope`. A note thread is written by two parties (the person and their supporter)
/// who may each erase the whole thread, but compacting must never silently drop the
/// other party's entries: in `notes:` only one's own blobs are superseded.
fn may_supersede_others(grant: &proto::Grant, scope: &Scope) -> bool {
    !matches!(scope, Scope::Notes(_)) && access::may_delete(grant, scope)
}

/// Authorship (docs/SECURITY.md): a device that registered keys may push only blobs
/// sealed and signed by those keys for this coop and this document, and nothing into a
/// document named for another device (`timesheet:<p>/<month>/<device>`,
/// `review:<p>/<year>/<device>`: one writer each). Devices without keys (clients from
/// before end-to-end encryption) are not checked here; see SECURITY.md, migration.
///
/// The one exception: a coordinator's custody re-seal (every blob flagged so in its signed
/// header) into a document named for another device. Returns those `(doc, owner)` for
/// the caller to check against the store ([`RelayStore::custody_allowed`]).
fn check_authorship(
    coop_id: &str,
    public_keys: &[u8],
    grant: &proto::Grant,
    docs: &[CheckedDoc],
) -> Result<Vec<(String, String)>, AppError> {
    let keys = logbook_crypto::DevicePublicKeys::from_bytes(public_keys).map_err(|e| {
        tracing::error!(error = %e, "stored device keys do not parse");
        AppError::Internal
    })?;
    let me = keys.device_id.clone();
    let mut devices = logbook_crypto::DeviceDirectory::new();
    devices.insert(keys).map_err(|_| AppError::Internal)?;
    let mut custody = Vec::new();
    for d in docs {
        if let Some(owner) = single_writer_of(&d.doc)
            && owner != me
        {
            let flagged = !d.blobs.is_empty()
                && d.blobs.iter().all(|(_, b)| {
                    matches!(logbook_crypto::classify(b),
                        logbook_crypto::BlobKind::Sealed(h) if h.custody)
                });
            if grant.role != Role::Coordinator || !flagged {
                return Err(AppError::Forbidden(
                    "this document belongs to another device",
                ));
            }
            custody.push((d.doc.clone(), owner.to_string()));
        }
        let ctx = logbook_crypto::BlobContext::new(coop_id, &d.doc)
            .map_err(|_| AppError::BadRequest("invalid document id"))?;
        for (_, blob) in &d.blobs {
            let header = logbook_crypto::verify_blob(&ctx, blob, &devices).map_err(|_| {
                AppError::Forbidden(
                    "a blob is not sealed and signed by this device for its document",
                )
            })?;
            if let Some(key) = &d.key
                && logbook_crypto::check_key_field(&ctx, key, blob).is_err()
            {
                return Err(AppError::BadRequest("the key id does not match the blobs"));
            }
            debug_assert_eq!(header.writer, me);
        }
    }
    Ok(custody)
}

/// The device a single-writer document is named for: the last segment of
/// `timesheet:<p>/<month>/<device>` and `review:<p>/<year>/<device>`.
fn single_writer_of(doc: &str) -> Option<&str> {
    let (scope, rest) = doc.split_once('/')?;
    let single = scope.starts_with("timesheet:") || scope.starts_with("review:");
    let segments: Vec<&str> = rest.split('/').collect();
    (single && segments.len() == 2).then(|| segments[1])
}

/// Validates a decoded push completely (limits, ids, access) and computes content ids.
/// Any failure refuses the whole batch, so nothing is stored.
fn check_push(grant: &proto::Grant, req: PushRequest) -> Result<Vec<CheckedDoc>, AppError> {
    if req.docs.len() > proto::MAX_DOCS_PER_PUSH {
        return Err(AppError::TooLarge("too many documents in one push"));
    }
    let blobs: usize = req.docs.iter().map(|d| d.blobs.len()).sum();
    let superseded: usize = req.docs.iter().map(|d| d.supersedes.len()).sum();
    if blobs > proto::MAX_BLOBS_PER_PUSH || superseded > proto::MAX_BLOBS_PER_PUSH {
        return Err(AppError::TooLarge("too many blobs in one push"));
    }
    if req
        .docs
        .iter()
        .flat_map(|d| &d.blobs)
        .any(|b| b.len() > proto::MAX_BLOB_BYTES)
    {
        return Err(AppError::TooLarge("blob too large"));
    }
    let mut scopes = Vec::with_capacity(req.docs.len());
    for d in &req.docs {
        let scope =
            Scope::of_doc(&d.doc).map_err(|_| AppError::BadRequest("invalid document id"))?;
        if !d.supersedes.iter().all(|c| is_content_id(c)) {
            return Err(AppError::BadRequest(
                "supersedes must list content ids (64 lowercase hex digits)",
            ));
        }
        let key_ok = d.key.as_ref().is_none_or(|k| {
            !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic())
        });
        if !key_ok {
            return Err(AppError::BadRequest("invalid key id"));
        }
        scopes.push(scope);
    }
    if !scopes.iter().all(|s| access::may_write(grant, s)) {
        return Err(AppError::Forbidden(
            "this device may not write to a document in the push",
        ));
    }
    Ok(req
        .docs
        .into_iter()
        .zip(scopes)
        .map(|(d, scope)| CheckedDoc {
            supersede_any: may_supersede_others(grant, &scope),
            // Set by `push` once it knows the pusher has keys and the coop migrates.
            supersede_orphans: false,
            scope: scope.to_string(),
            blobs: d
                .blobs
                .into_iter()
                .map(|b| {
                    let bytes = b.into_vec();
                    (proto::content_id(&bytes), bytes)
                })
                .collect(),
            doc: d.doc,
            key: d.key,
            supersedes: d.supersedes,
        })
        .collect())
}

async fn push(
    State(st): State<AppState>,
    Device(d): Device,
    _slot: PushAllowed,
    PushBody(body): PushBody,
) -> Result<Response, AppError> {
    let store = st.store.clone();
    let rate = st.rate.clone();
    let metrics = st.metrics.clone();
    let encoded = blocking(move || {
        let req: PushRequest = decode_push(&body).map_err(|e| {
            rate.charge_refused_push(&d.device_id);
            match e {
                PushDecodeError::TooLarge(m) => AppError::TooLarge(m),
                PushDecodeError::Malformed => AppError::BadRequest("malformed CBOR push body"),
            }
        })?;
        let mut docs = check_push(&d.grant, req)?;
        // After limits, ids and access (a forbidden document is 403 whatever its blobs).
        match &d.public_keys {
            Some(keys) => {
                // Custody re-seals (docs/SECURITY.md, Migration from plaintext): only into
                // documents of revoked devices that never registered keys, while the
                // coop migrates.
                for (doc, owner) in check_authorship(&d.coop_id, keys, &d.grant, &docs)? {
                    if !store.custody_allowed(&d.coop_id, &doc, &owner, &d.device_id)? {
                        return Err(AppError::Forbidden(
                            "a custody re-seal is only for documents of revoked devices \
                             that never registered keys, while the coop migrates",
                        ));
                    }
                }
                // While the coop migrates, a sealed snapshot may supersede the plaintext
                // that revoked keyless devices left in a document the pusher may write.
                let orphans = docs.iter().any(|x| !x.supersedes.is_empty())
                    && !store.sealed_only(&d.coop_id)?;
                for doc in &mut docs {
                    doc.supersede_orphans = orphans;
                }
            }
            // A device from before end-to-end encryption pushes plaintext, which a sealed
            // only coop no longer takes (docs/SECURITY.md, Migration from plaintext).
            None if store.sealed_only(&d.coop_id)? => {
                return Err(AppError::Forbidden(
                    "this coop takes only sealed blobs: update the app",
                ));
            }
            None => {}
        }
        let size = metrics.as_ref().map(|_| {
            let blobs = docs.iter().map(|d| d.blobs.len()).sum::<usize>();
            let bytes = docs
                .iter()
                .flat_map(|d| d.blobs.iter().map(|(_, b)| b.len()))
                .sum::<usize>();
            (docs.len(), blobs, bytes)
        });
        let res = store.push(&d.coop_id, &d.device_id, docs)?;
        if let (Some(m), Some((documents, blobs, bytes))) = (&metrics, size) {
            m.observe_push(documents, blobs, bytes);
        }
        Ok(proto::to_cbor(&res))
    })
    .await?;
    Ok(cbor_response(encoded))
}

#[derive(Debug, Deserialize)]
struct PullParams {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
    /// Restrict the pull to one readable scope (used to back-fill notes after consent).
    scope: Option<String>,
    /// Leave out the blobs this device pushed at or below this seq: it holds them. A
    /// device restored from a backup sends the older value its backup kept, so what it
    /// pushed after the backup comes back to it.
    own_through: Option<u64>,
    /// The log generation the client's cursor belongs to, if it knows one.
    generation: Option<String>,
}

async fn pull(
    State(st): State<AppState>,
    Device(d): Device,
    params: Result<Query<PullParams>, QueryRejection>,
) -> Result<Response, AppError> {
    st.rate.pull(&d.device_id)?;
    let Query(params) = params.map_err(|_| AppError::BadRequest("malformed pull query"))?;
    let limit = params
        .limit
        .unwrap_or(proto::DEFAULT_PULL_LIMIT)
        .clamp(1, proto::MAX_PULL_LIMIT);
    let only = params
        .scope
        .map(|s| Scope::parse(&s).map_err(|_| AppError::BadRequest("invalid scope")))
        .transpose()?;
    let single_scope = only.is_some();
    let store = st.store.clone();
    let generation = st.generation.clone();
    // A cursor from another generation (the log was restored since) may lie past this
    // log's end: it acknowledges nothing here, and its `own_through` counts another log.
    let cursor_is_ours = match (&params.generation, &generation) {
        (Some(theirs), Some(ours)) => theirs.as_str() == &**ours,
        _ => true,
    };
    let encoded = blocking(move || {
        let consented = if d.grant.role == Role::Coordinator {
            store.consented_people(&d.coop_id)?
        } else {
            Vec::new()
        };
        let (mut filter, notes_readable) = access::read_filter(&d.grant, &consented);
        if let Some(scope) = only {
            let consent = scope
                .person()
                .is_some_and(|p| consented.iter().any(|c| c == p));
            if !access::may_read(&d.grant, &scope, consent) {
                return Err(AppError::Forbidden("this device may not read that scope"));
            }
            filter = ReadFilter::Only(vec![scope.to_string()]);
        }
        let mut res = store.pull(
            &d.coop_id,
            &filter,
            params.after,
            params
                .own_through
                .filter(|_| cursor_is_ours)
                .map(|t| (d.device_id.as_str(), t)),
            limit,
            proto::MAX_PULL_BYTES,
        )?;
        res.notes_readable = notes_readable;
        res.generation = generation.map(|g| g.to_string());
        // A full pull's `after` says the device applied everything up to it (clients
        // store `next` only after applying a page), which lets old tombstones go. A
        // single-scope back-fill runs on a side cursor and says nothing of the kind.
        if !single_scope && cursor_is_ours {
            store.ack_cursor(&d.device_id, params.after);
        }
        Ok(proto::to_cbor(&res))
    })
    .await?;
    Ok(cbor_response(encoded))
}

async fn delete_doc(
    State(st): State<AppState>,
    Device(d): Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let req: DeleteDocRequest = json_body(&headers, body)?;
    let scope = Scope::of_doc(&req.doc).map_err(|_| AppError::BadRequest("invalid document id"))?;
    if !access::may_delete(&d.grant, &scope) {
        return Err(AppError::Forbidden(
            "this device may not delete that document",
        ));
    }
    if req.tags.len() > proto::MAX_ERASURE_TAGS
        || !req.tags.iter().all(|t| proto::valid_erasure_tag(t))
    {
        return Err(AppError::BadRequest("invalid erasure tags"));
    }
    let store = st.store.clone();
    blocking(move || {
        Ok(store.delete_doc(&d.coop_id, &req.doc, &scope.to_string(), &req.tags, now())?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
