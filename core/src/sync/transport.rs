//! The relay transport: the requests of docs/PROTOCOL.md behind a small trait, so the
//! sync logic does not depend on HTTP (and tests or another transport can stand in).
//! [`HttpRelay`] is the real one: reqwest with timeouts, CBOR for push and pull, JSON
//! for the control calls, and the relay's JSON errors turned into the core's errors.
//!
//! Compression: responses come gzipped (reqwest asks with `Accept-Encoding`). Push bodies
//! go gzipped only to a relay that said it takes them (`Accept-Encoding: gzip` on its
//! responses, RFC 7694); until then, and for relays that never say so, they go plain.
//! If a compressed push is refused as unreadable (415, or 400 from a relay that no
//! longer advertises gzip), it is sent again plain at once and the relay is taken not to
//! accept gzip any more. Control bodies (JSON, well under 1 KB) always go plain.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use logbook_protocol as proto;

use crate::error::{Error, Result};

/// What the sync client needs from a relay.
pub(crate) trait Transport {
    async fn join(&self, req: &proto::JoinRequest) -> Result<proto::JoinResponse>;
    async fn push(&self, body: &[u8]) -> Result<proto::PushResponse>;
    /// `own_through`: leave out the blobs this device pushed at or below that seq.
    /// `generation`: the relay log generation `after` belongs to, if known.
    async fn pull(
        &self,
        after: u64,
        scope: Option<&str>,
        own_through: Option<u64>,
        generation: Option<&str>,
        limit: u32,
    ) -> Result<proto::PullResponse>;
    async fn delete_doc(&self, doc: &str, tags: &[String]) -> Result<()>;
    async fn invite(&self, req: &proto::InviteRequest) -> Result<proto::InviteResponse>;
    async fn devices(&self) -> Result<Vec<proto::DeviceInfo>>;
    async fn revoke(&self, device_id: &str) -> Result<()>;
    async fn consent(&self, person_id: &str, coordinator_notes: bool) -> Result<()>;
}

/// A relay over HTTP(S), at one or more addresses: the first is tried first; a request
/// that cannot reach an address (connection refused or timed out) or gets a server error
/// (5xx other than 507) goes to the next one, and later requests of the same sync stay
/// with the address that answered. Several addresses must be processes of one relay (one
/// PostgreSQL database): the log generation tells a device when they are not.
pub(crate) struct HttpRelay {
    http: reqwest::Client,
    urls: Vec<String>,
    /// Index into `urls` of the address that answered last.
    current: AtomicUsize,
    token: String,
    /// The relay said it takes gzipped request bodies (learnt from its responses).
    gzip_requests: AtomicBool,
}

/// Push bodies smaller than this go plain: gzip's 18 bytes of framing and the CPU are not
/// worth it for a tap or two.
const GZIP_MIN_BYTES: usize = 256;

/// Splits a list of relay addresses (separated by commas or white space), trimming each
/// and its trailing slashes; empty entries and repeats are dropped.
pub(crate) fn parse_relay_urls(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for url in list.split(|c: char| c == ',' || c.is_whitespace()) {
        let url = url.trim().trim_end_matches('/');
        if !url.is_empty() && !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

/// Worth trying the next address: the relay process may be down or overloaded.
fn fails_over(status: u16) -> bool {
    status >= 500 && status != 507
}

impl HttpRelay {
    /// A relay at `urls` (at least one, no trailing slash); `token` is empty before
    /// joining.
    pub(crate) fn new(urls: &[String], token: &str) -> Result<HttpRelay> {
        if urls.is_empty() {
            return Err(Error::invalid("no relay address"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("co-op-logbook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(HttpRelay {
            http,
            urls: urls.to_vec(),
            current: AtomicUsize::new(0),
            token: token.to_string(),
            gzip_requests: AtomicBool::new(false),
        })
    }

    /// Starts out knowing whether the relay takes gzipped request bodies (remembered from
    /// an earlier sync, so the first push of a sync is compressed too).
    pub(crate) fn with_gzip_requests(self, accepted: bool) -> HttpRelay {
        self.gzip_requests.store(accepted, Ordering::Relaxed);
        self
    }

    /// Whether the relay takes gzipped request bodies, as far as this client knows now.
    pub(crate) fn gzip_requests(&self) -> bool {
        self.gzip_requests.load(Ordering::Relaxed)
    }

    /// A JSON control call with this device's token (the end-to-end key endpoints, see
    /// `sync::trust`): `body` as JSON if any; the answer as `T`, or `None` for an empty one.
    pub(crate) async fn json_call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<Option<T>> {
        let resp = self
            .send(|base| {
                let req = self
                    .http
                    .request(method.clone(), format!("{base}{path}"))
                    .bearer_auth(&self.token);
                match body {
                    Some(body) => req.json(body),
                    None => req,
                }
            })
            .await?;
        let resp = checked(resp).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        resp.json().await.map(Some).map_err(network)
    }

    /// Sends the request `build` makes for a relay address, starting with the address
    /// that answered last; on a connection failure, a timeout or a server error, the next
    /// address gets it (each address at most once per request). Learns from the response
    /// whether the relay takes gzip.
    async fn send(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let n = self.urls.len();
        let first = self.current.load(Ordering::Relaxed) % n;
        let mut tried = 0;
        loop {
            let at = (first + tried) % n;
            tried += 1;
            let last_chance = tried >= n;
            match build(&self.urls[at]).send().await {
                Ok(resp) if last_chance || !fails_over(resp.status().as_u16()) => {
                    self.current.store(at, Ordering::Relaxed);
                    if advertises_gzip(resp.headers()) {
                        self.gzip_requests.store(true, Ordering::Relaxed);
                    }
                    return Ok(resp);
                }
                Ok(_) => {}
                Err(e) if last_chance || !(e.is_connect() || e.is_timeout()) => {
                    return Err(network(e));
                }
                Err(_) => {}
            }
        }
    }

    fn post(&self, base: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{base}{path}"))
            .bearer_auth(&self.token)
    }

    fn push_request(&self, base: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.post(base, "/v1/push")
            .header(reqwest::header::CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
            .body(body)
    }
}

/// The relay's responses say `Accept-Encoding: gzip` (RFC 7694, section 3).
fn advertises_gzip(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get_all(reqwest::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let name = coding.split(';').next().unwrap_or_default().trim();
            name.eq_ignore_ascii_case("gzip")
        })
}

/// A compressed request refused as unreadable: `415`, or a `400` from a relay that does
/// not (or no longer) advertise gzip, which read the gzip bytes as CBOR.
fn refused_compressed(resp: &reqwest::Response) -> bool {
    let status = resp.status().as_u16();
    status == 415 || (status == 400 && !advertises_gzip(resp.headers()))
}

/// `body` gzipped, if it is big enough to be worth it and comes out smaller.
pub(crate) fn gzipped(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < GZIP_MIN_BYTES {
        return None;
    }
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::default(),
    );
    gz.write_all(body).ok()?;
    let out = gz.finish().ok()?;
    (out.len() < body.len()).then_some(out)
}

impl Transport for HttpRelay {
    async fn join(&self, req: &proto::JoinRequest) -> Result<proto::JoinResponse> {
        let resp = self
            .send(|base| self.http.post(format!("{base}/v1/join")).json(req))
            .await?;
        checked(resp).await?.json().await.map_err(network)
    }

    async fn push(&self, body: &[u8]) -> Result<proto::PushResponse> {
        if let Some(gz) = self.gzip_requests().then(|| gzipped(body)).flatten() {
            let resp = self
                .send(|base| {
                    self.push_request(base, gz.clone())
                        .header(reqwest::header::CONTENT_ENCODING, "gzip")
                })
                .await?;
            if !refused_compressed(&resp) {
                return cbor_body(resp, "push").await;
            }
            // A relay that stopped taking gzip (downgraded, or a proxy in front that
            // refuses it): plain from now on, starting with this push.
            self.gzip_requests.store(false, Ordering::Relaxed);
        }
        let resp = self
            .send(|base| self.push_request(base, body.to_vec()))
            .await?;
        cbor_body(resp, "push").await
    }

    async fn pull(
        &self,
        after: u64,
        scope: Option<&str>,
        own_through: Option<u64>,
        generation: Option<&str>,
        limit: u32,
    ) -> Result<proto::PullResponse> {
        let mut query = vec![("after", after.to_string()), ("limit", limit.to_string())];
        if let Some(scope) = scope {
            query.push(("scope", scope.to_string()));
        }
        if let Some(through) = own_through {
            query.push(("own_through", through.to_string()));
        }
        if let Some(generation) = generation {
            query.push(("generation", generation.to_string()));
        }
        let resp = self
            .send(|base| {
                self.http
                    .get(format!("{base}/v1/pull"))
                    .query(&query)
                    .bearer_auth(&self.token)
            })
            .await?;
        cbor_body(resp, "pull").await
    }

    async fn delete_doc(&self, doc: &str, tags: &[String]) -> Result<()> {
        let req = proto::DeleteDocRequest {
            doc: doc.to_string(),
            tags: tags.to_vec(),
        };
        let resp = self
            .send(|base| self.post(base, "/v1/docs/delete").json(&req))
            .await?;
        checked(resp).await.map(drop)
    }

    async fn invite(&self, req: &proto::InviteRequest) -> Result<proto::InviteResponse> {
        let resp = self
            .send(|base| self.post(base, "/v1/invites").json(req))
            .await?;
        checked(resp).await?.json().await.map_err(network)
    }

    async fn devices(&self) -> Result<Vec<proto::DeviceInfo>> {
        let resp = self
            .send(|base| {
                self.http
                    .get(format!("{base}/v1/devices"))
                    .bearer_auth(&self.token)
            })
            .await?;
        Ok(checked(resp)
            .await?
            .json::<proto::DevicesResponse>()
            .await
            .map_err(network)?
            .devices)
    }

    async fn revoke(&self, device_id: &str) -> Result<()> {
        let path = format!("/v1/devices/{device_id}/revoke");
        let resp = self.send(|base| self.post(base, &path)).await?;
        checked(resp).await.map(drop)
    }

    async fn consent(&self, person_id: &str, coordinator_notes: bool) -> Result<()> {
        let req = proto::ConsentRequest { coordinator_notes };
        let resp = self
            .send(|base| {
                self.http
                    .put(format!("{base}/v1/consent/{person_id}"))
                    .bearer_auth(&self.token)
                    .json(&req)
            })
            .await?;
        checked(resp).await.map(drop)
    }
}

fn network(e: reqwest::Error) -> Error {
    if e.is_connect() {
        return Error::Unreachable;
    }
    // reqwest's Display can include the URL; say only what kind of failure it was.
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
    if status == 429 {
        // Honour the relay's Retry-After (whole seconds); without one, wait a second.
        let retry_after_seconds = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1);
        return Error::RelayBusy {
            retry_after_seconds,
        };
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn push_bodies_are_gzipped_when_big_enough_and_smaller_for_it() {
        let body: Vec<u8> = b"timesheet:person-1/2026-11 ".repeat(40);
        let gz = gzipped(&body).expect("worth compressing");
        assert!(gz.len() < body.len() / 4);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut back)
            .expect("valid gzip");
        assert_eq!(back, body);
        // A tap or two: not worth it. Random bytes: would grow, so they go plain.
        assert_eq!(gzipped(&body[..GZIP_MIN_BYTES - 1]), None);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert_eq!(gzipped(&noise), None);
    }

    #[test]
    fn gzip_is_learnt_from_accept_encoding_only() {
        use reqwest::header::{ACCEPT_ENCODING, HeaderMap, HeaderValue};
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            h
        };
        assert!(advertises_gzip(&with("gzip")));
        assert!(advertises_gzip(&with("br, GZIP;q=0.5")));
        assert!(!advertises_gzip(&with("br, identity")));
        assert!(!advertises_gzip(&with("x-gzip-ish")));
        assert!(!advertises_gzip(&HeaderMap::new()));
    }
}
