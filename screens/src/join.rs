//! The join screen: type or scan the one-time code a coordinator made; the role the code
//! grants decides what this device becomes (a worker's phone, a site's kiosk, a
//! coordinator's device, a supporter's device).
//!
//! The invite QR code (the coordinator screen draws it) carries the relay's address and
//! the code, so scanning fills both; typing needs the address too unless the app knows it.

use std::sync::Arc;

use logbook_core::{Error, Logbook};
use logbook_protocol::Role;

use crate::live::{Published, ScreenListener, ScreenSubscription};
use crate::message::{Message, keys, refusal};
use crate::sync_status::is_offline;

/// What a device is, by the role its join code granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceMode {
    /// A worker's own phone: their day, hours, CPO, training, notes.
    Phone,
    /// A site's shared tablet: names, PIN pad, taps.
    Kiosk,
    /// A coordinator's device: review, people, devices, reports.
    Coordinator,
    /// A supporter's device: the notes of the people they support.
    Supporter,
}

impl DeviceMode {
    pub fn of(role: Role) -> DeviceMode {
        match role {
            Role::Worker => DeviceMode::Phone,
            Role::Kiosk => DeviceMode::Kiosk,
            Role::Coordinator => DeviceMode::Coordinator,
            Role::Supporter => DeviceMode::Supporter,
        }
    }

    /// The mode of a device that already joined (`None`: never joined).
    pub fn of_device(lb: &Logbook) -> Option<DeviceMode> {
        lb.grant().ok().flatten().map(|g| DeviceMode::of(g.role))
    }
}

/// Where the join stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinStage {
    /// Typing or scanning.
    Entering,
    /// Talking to the relay.
    Joining,
    /// Joined: the app switches to `mode`. `note` is `join.notSynced` when the first
    /// sync did not finish (the next one completes it).
    Joined {
        mode: DeviceMode,
        coop_name: String,
        message: Message,
        note: Option<Message>,
    },
    /// The join did not happen; `reason` says why (the code can be fixed and tried again).
    Failed { reason: Message },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinState {
    pub relay_url: String,
    pub code: String,
    /// The code and address are filled in: the join button works.
    pub can_join: bool,
    pub prompt: Message,
    pub stage: JoinStage,
}

/// The join screen model.
pub struct JoinScreen {
    lb: Arc<Logbook>,
    published: Published<JoinState>,
}

/// What an invite QR code holds: a first line naming it, the relay's address, the code.
const QR_HEADER: &str = "COOP-LOGBOOK-JOIN";

/// The text an invite QR code encodes.
pub fn join_payload(relay_url: &str, code: &str) -> String {
    format!("{QR_HEADER}\n{relay_url}\n{code}")
}

/// Why a scanned QR code could not fill the join screen. The texts are fixed (a foreign
/// QR code's content is never repeated: it could be anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinPayloadError {
    /// Some other QR code (a web address, a product code…): not a Co-op Logbook invite.
    #[error("this QR code is not a Co-op Logbook invite")]
    NotAnInvite,
    /// It names itself an invite but the relay's address or the code is missing.
    #[error("this invite QR code is incomplete")]
    Incomplete,
    /// The relay's address is not an http:// or https:// address.
    #[error("this invite QR code has no valid relay address")]
    BadRelayAddress,
}

impl JoinPayloadError {
    /// What the join screen shows.
    pub fn message(self) -> Message {
        Message::new(match self {
            JoinPayloadError::NotAnInvite => keys::JOIN_SCAN_FOREIGN,
            JoinPayloadError::Incomplete | JoinPayloadError::BadRelayAddress => {
                keys::JOIN_SCAN_DAMAGED
            }
        })
    }
}

/// A scanned invite: where the relay is and the one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinPayload {
    pub relay_url: String,
    pub code: String,
}

/// The relay address and code from a scanned QR code ([`join_payload`] made it). Windows
/// line ends and surrounding blanks are accepted; anything else is an error that says
/// whether the QR code is someone else's or a damaged invite.
pub fn parse_join_payload(payload: &str) -> Result<JoinPayload, JoinPayloadError> {
    let mut lines = payload.trim().lines().map(str::trim);
    if lines.next() != Some(QR_HEADER) {
        return Err(JoinPayloadError::NotAnInvite);
    }
    let relay_url = lines.next().unwrap_or_default().to_string();
    let code = lines.next().unwrap_or_default().to_uppercase();
    if relay_url.is_empty() || code.is_empty() || lines.any(|l| !l.is_empty()) {
        return Err(JoinPayloadError::Incomplete);
    }
    let host = relay_url
        .strip_prefix("https://")
        .or_else(|| relay_url.strip_prefix("http://"))
        .unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(JoinPayloadError::BadRelayAddress);
    }
    Ok(JoinPayload { relay_url, code })
}

impl JoinScreen {
    /// `relay_url`: the address the app already knows, if any (empty: from the QR code).
    pub fn new(lb: Arc<Logbook>, relay_url: &str) -> JoinScreen {
        let stage = match DeviceMode::of_device(&lb) {
            Some(_) => JoinStage::Failed {
                reason: Message::new(keys::JOIN_ALREADY),
            },
            None => JoinStage::Entering,
        };
        JoinScreen {
            lb,
            published: Published::new(JoinState {
                relay_url: relay_url.trim().to_string(),
                code: String::new(),
                can_join: false,
                prompt: Message::new(keys::JOIN_PROMPT),
                stage,
            }),
        }
    }

    pub fn state(&self) -> JoinState {
        self.published.get()
    }

    pub fn subscribe(&self, listener: Arc<dyn ScreenListener<JoinState>>) -> ScreenSubscription {
        self.published.subscribe(listener)
    }

    /// The code as typed so far (spaces and case do not matter).
    pub fn set_code(&self, code: &str) {
        let code = code.trim().to_uppercase();
        self.published.update(|s| {
            s.code = code;
            s.can_join = !s.code.is_empty() && !s.relay_url.is_empty();
        });
    }

    pub fn set_relay_url(&self, url: &str) {
        let url = url.trim().to_string();
        self.published.update(|s| {
            s.relay_url = url;
            s.can_join = !s.code.is_empty() && !s.relay_url.is_empty();
        });
    }

    /// A scanned QR code: fills the address and the code. If it is not an invite (or a
    /// damaged one) nothing is filled, the stage says why, and the error is returned.
    pub fn scanned(&self, payload: &str) -> Result<(), JoinPayloadError> {
        match parse_join_payload(payload) {
            Ok(JoinPayload { relay_url, code }) => {
                self.published.update(|s| {
                    s.relay_url = relay_url;
                    s.code = code;
                    s.can_join = true;
                    // A refusal from an earlier scan or join no longer applies; "already
                    // joined" and a join under way stay.
                    if matches!(&s.stage, JoinStage::Failed { reason } if reason.key != keys::JOIN_ALREADY)
                    {
                        s.stage = JoinStage::Entering;
                    }
                });
                Ok(())
            }
            Err(e) => {
                self.published.update(|s| {
                    s.stage = JoinStage::Failed {
                        reason: e.message(),
                    }
                });
                Err(e)
            }
        }
    }

    /// Redeem the code with this device's name. The resulting stage says the mode (or
    /// why not); returns it too.
    pub async fn join(&self, device_name: &str) -> JoinStage {
        let JoinState {
            relay_url,
            code,
            can_join,
            ..
        } = self.published.get();
        if !can_join {
            return self.published.get().stage;
        }
        self.published.update(|s| s.stage = JoinStage::Joining);
        let stage = match self.lb.sync().join(&relay_url, &code, device_name).await {
            // The grant the relay gave is stored by the join: the mode follows from it.
            Ok(info) => match self.lb.grant().ok().flatten().map(|g| g.role) {
                Some(role) => {
                    let mode = DeviceMode::of(role);
                    let key = match mode {
                        DeviceMode::Phone => keys::JOIN_DONE_PHONE,
                        DeviceMode::Kiosk => keys::JOIN_DONE_KIOSK,
                        DeviceMode::Coordinator => keys::JOIN_DONE_COORDINATOR,
                        DeviceMode::Supporter => keys::JOIN_DONE_SUPPORTER,
                    };
                    JoinStage::Joined {
                        mode,
                        message: Message::new(key).arg("coop", &info.coop_name),
                        coop_name: info.coop_name,
                        note: (!info.synced).then(|| Message::new(keys::JOIN_NOT_SYNCED)),
                    }
                }
                None => JoinStage::Failed {
                    reason: Message::new(keys::REFUSED_ERROR),
                },
            },
            Err(e) => JoinStage::Failed {
                reason: join_refusal(&e),
            },
        };
        self.published.update(|s| s.stage = stage.clone());
        stage
    }
}

fn join_refusal(e: &Error) -> Message {
    match e {
        e if is_offline(e) => Message::new(keys::JOIN_OFFLINE),
        Error::Unauthorized(_) | Error::Relay { .. } => Message::new(keys::JOIN_BAD_CODE),
        Error::Conflict(r) if r.contains("already joined") => Message::new(keys::JOIN_ALREADY),
        e => refusal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_payload_round_trips_and_other_text_is_not_an_invite() {
        let p = join_payload("https://relay.example", "K7QF-2M9X-T4PA");
        let want = JoinPayload {
            relay_url: "https://relay.example".into(),
            code: "K7QF-2M9X-T4PA".into(),
        };
        assert_eq!(parse_join_payload(&p), Ok(want.clone()));
        // As a scanner may hand it over: Windows line ends, blanks, a lower-case code.
        let loose = "  COOP-LOGBOOK-JOIN\r\n https://relay.example \r\nk7qf-2m9x-t4pa\r\n";
        assert_eq!(parse_join_payload(loose), Ok(want));
        for foreign in [
            "https://relay.example",
            "",
            "WIFI:S:cafe;T:WPA;P:secret;;",
            "4006381333931",
            "coop-logbook-join\nhttps://relay.example\nK7QF",
        ] {
            assert_eq!(
                parse_join_payload(foreign),
                Err(JoinPayloadError::NotAnInvite),
                "{foreign:?}"
            );
        }
        for damaged in [
            "COOP-LOGBOOK-JOIN",
            "COOP-LOGBOOK-JOIN\nhttps://relay.example",
            "COOP-LOGBOOK-JOIN\n\nK7QF-2M9X-T4PA",
            "COOP-LOGBOOK-JOIN\nhttps://relay.example\nK7QF\nextra",
        ] {
            assert_eq!(
                parse_join_payload(damaged),
                Err(JoinPayloadError::Incomplete),
                "{damaged:?}"
            );
        }
        for bad in [
            "ftp://relay.example",
            "relay.example",
            "https://",
            "https://a b",
        ] {
            assert_eq!(
                parse_join_payload(&join_payload(bad, "K7QF")),
                Err(JoinPayloadError::BadRelayAddress),
                "{bad:?}"
            );
        }
        assert_eq!(
            JoinPayloadError::NotAnInvite.message().key,
            keys::JOIN_SCAN_FOREIGN
        );
        assert_eq!(
            JoinPayloadError::Incomplete.message().key,
            keys::JOIN_SCAN_DAMAGED
        );
    }

    #[test]
    fn scanning_fills_the_join_screen_or_says_why_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lb = Arc::new(
            Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key()).expect("open"),
        );
        let screen = JoinScreen::new(lb, "");
        assert_eq!(
            screen.scanned("https://example.org/menu"),
            Err(JoinPayloadError::NotAnInvite)
        );
        let s = screen.state();
        assert!(!s.can_join && s.code.is_empty() && s.relay_url.is_empty());
        assert_eq!(
            s.stage,
            JoinStage::Failed {
                reason: Message::new(keys::JOIN_SCAN_FOREIGN)
            }
        );
        assert_eq!(
            screen.scanned(&join_payload("http://127.0.0.1:8080", "K7QF-2M9X-T4PA")),
            Ok(())
        );
        let s = screen.state();
        assert!(s.can_join);
        assert_eq!(s.relay_url, "http://127.0.0.1:8080");
        assert_eq!(s.code, "K7QF-2M9X-T4PA");
        assert_eq!(s.stage, JoinStage::Entering);
    }
}
