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

/// The relay address and code from a scanned invite, if it is one.
pub fn parse_join_payload(payload: &str) -> Option<(String, String)> {
    let mut lines = payload.lines();
    if lines.next()? != QR_HEADER {
        return None;
    }
    let url = lines.next()?.trim().to_string();
    let code = lines.next()?.trim().to_string();
    (!url.is_empty() && !code.is_empty()).then_some((url, code))
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

    /// A scanned QR code: fills the address and the code. Returns false (and changes
    /// nothing) if it is not an invite.
    pub fn scanned(&self, payload: &str) -> bool {
        let Some((url, code)) = parse_join_payload(payload) else {
            return false;
        };
        self.published.update(|s| {
            s.relay_url = url;
            s.code = code;
            s.can_join = true;
        });
        true
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
        assert_eq!(
            parse_join_payload(&p),
            Some(("https://relay.example".into(), "K7QF-2M9X-T4PA".into()))
        );
        assert_eq!(parse_join_payload("https://relay.example"), None);
    }
}
