//! The relay transport: the requests of docs/PROTOCOL.md behind a small trait, so the
//! sync logic does not depend on HTTP (and tests or another transport can stand in).
//! [`HttpRelay`] is the real one: reqwest with timeouts, CBOR for push and pull, JSON
//! for the control calls, and the relay's JSON errors turned into the core's errors.

use std::time::Duration;

use logbook_protocol as proto;

use crate::error::{Error, Result};

/// What the sync client needs from a relay.
pub(crate) trait Transport {
    async fn join(&self, req: &proto::JoinRequest) -> Result<proto::JoinResponse>;
    async fn push(&self, body: &[u8]) -> Result<proto::PushResponse>;
    async fn pull(
        &self,
        after: u64,
        scope: Option<&str>,
        limit: u32,
    ) -> Result<proto::PullResponse>;
    async fn delete_doc(&self, doc: &str) -> Result<()>;
    async fn invite(&self, req: &proto::InviteRequest) -> Result<proto::InviteResponse>;
    async fn devices(&self) -> Result<Vec<proto::DeviceInfo>>;
    async fn revoke(&self, device_id: &str) -> Result<()>;
    async fn consent(&self, person_id: &str, coordinator_notes: bool) -> Result<()>;
}

/// A relay over HTTP(S).
pub(crate) struct HttpRelay {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl HttpRelay {
    /// A relay at `url` (no trailing slash); `token` is empty before joining.
    pub(crate) fn new(url: &str, token: &str) -> Result<HttpRelay> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("co-op-logbook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(HttpRelay {
            http,
            url: url.to_string(),
            token: token.to_string(),
        })
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// A JSON control call with this device's token (the end-to-end key endpoints, see
    /// `sync::trust`): `body` as JSON if any; the answer as `T`, or `None` for an empty one.
    pub(crate) async fn json_call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<Option<T>> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = checked(req.send().await.map_err(network)?).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        resp.json().await.map(Some).map_err(network)
    }
}

impl Transport for HttpRelay {
    async fn join(&self, req: &proto::JoinRequest) -> Result<proto::JoinResponse> {
        let resp = self
            .http
            .post(format!("{}/v1/join", self.url))
            .json(req)
            .send()
            .await
            .map_err(network)?;
        checked(resp).await?.json().await.map_err(network)
    }

    async fn push(&self, body: &[u8]) -> Result<proto::PushResponse> {
        let resp = self
            .post("/v1/push")
            .header(reqwest::header::CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
            .body(body.to_vec())
            .send()
            .await
            .map_err(network)?;
        cbor_body(resp, "push").await
    }

    async fn pull(
        &self,
        after: u64,
        scope: Option<&str>,
        limit: u32,
    ) -> Result<proto::PullResponse> {
        let mut query = vec![("after", after.to_string()), ("limit", limit.to_string())];
        if let Some(scope) = scope {
            query.push(("scope", scope.to_string()));
        }
        let resp = self
            .http
            .get(format!("{}/v1/pull", self.url))
            .query(&query)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(network)?;
        cbor_body(resp, "pull").await
    }

    async fn delete_doc(&self, doc: &str) -> Result<()> {
        let resp = self
            .post("/v1/docs/delete")
            .json(&proto::DeleteDocRequest {
                doc: doc.to_string(),
            })
            .send()
            .await
            .map_err(network)?;
        checked(resp).await.map(drop)
    }

    async fn invite(&self, req: &proto::InviteRequest) -> Result<proto::InviteResponse> {
        let resp = self
            .post("/v1/invites")
            .json(req)
            .send()
            .await
            .map_err(network)?;
        checked(resp).await?.json().await.map_err(network)
    }

    async fn devices(&self) -> Result<Vec<proto::DeviceInfo>> {
        let resp = self
            .http
            .get(format!("{}/v1/devices", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(network)?;
        Ok(checked(resp)
            .await?
            .json::<proto::DevicesResponse>()
            .await
            .map_err(network)?
            .devices)
    }

    async fn revoke(&self, device_id: &str) -> Result<()> {
        let resp = self
            .post(&format!("/v1/devices/{device_id}/revoke"))
            .send()
            .await
            .map_err(network)?;
        checked(resp).await.map(drop)
    }

    async fn consent(&self, person_id: &str, coordinator_notes: bool) -> Result<()> {
        let resp = self
            .http
            .put(format!("{}/v1/consent/{person_id}", self.url))
            .bearer_auth(&self.token)
            .json(&proto::ConsentRequest { coordinator_notes })
            .send()
            .await
            .map_err(network)?;
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
