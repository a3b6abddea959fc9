//! `logbook.sync()`: join a relay, sync with it, and the coordinators' online calls
//! (invites, devices). The network calls are `async` on tokio: `suspend` in Kotlin,
//! `async` in Swift and Python. Cancelling one (dropping the future) is safe: the core
//! holds no transaction across an await, so the store stays consistent and the next sync
//! picks up where this one stopped.

use logbook_core::sync::{JoinInfo, SyncSummary};
use logbook_protocol as proto;

use crate::error::Result;
use crate::logbook::sub_object;

/// What a device is; chosen by the coordinator who invites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceRole {
    Coordinator,
    Worker,
    Supporter,
    Kiosk,
}

/// A device's role and what it is bound to: `person_id` for a worker's phone, `site_id`
/// for a kiosk, `supports` (people) for a supporter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Grant {
    pub role: DeviceRole,
    #[uniffi(default)]
    pub person_id: Option<String>,
    #[uniffi(default)]
    pub site_id: Option<String>,
    #[uniffi(default)]
    pub supports: Vec<String>,
}

/// A one-time join code (show it as text or a QR code).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Invite {
    pub code: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A device of the coop, as the relay knows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    pub device_id: String,
    pub name: String,
    pub grant: Grant,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    pub revoked: bool,
}

/// A device that may receive a person's notes key once the person (or a supporter who
/// holds it) approves it: the person's other devices and their supporters.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotesDevice {
    /// The key the device shows (`Logbook.device_key`), to compare before approving.
    pub device_key: String,
    pub role: DeviceRole,
    pub approved: bool,
}

impl From<proto::Role> for DeviceRole {
    fn from(r: proto::Role) -> Self {
        match r {
            proto::Role::Coordinator => DeviceRole::Coordinator,
            proto::Role::Worker => DeviceRole::Worker,
            proto::Role::Supporter => DeviceRole::Supporter,
            proto::Role::Kiosk => DeviceRole::Kiosk,
        }
    }
}

impl From<DeviceRole> for proto::Role {
    fn from(r: DeviceRole) -> Self {
        match r {
            DeviceRole::Coordinator => proto::Role::Coordinator,
            DeviceRole::Worker => proto::Role::Worker,
            DeviceRole::Supporter => proto::Role::Supporter,
            DeviceRole::Kiosk => proto::Role::Kiosk,
        }
    }
}

impl From<proto::Grant> for Grant {
    fn from(g: proto::Grant) -> Self {
        Grant {
            role: g.role.into(),
            person_id: g.person,
            site_id: g.site,
            supports: g.supports,
        }
    }
}

impl From<Grant> for proto::Grant {
    fn from(g: Grant) -> Self {
        proto::Grant {
            role: g.role.into(),
            person: g.person_id,
            site: g.site_id,
            supports: g.supports,
        }
    }
}

impl From<proto::DeviceInfo> for DeviceInfo {
    fn from(d: proto::DeviceInfo) -> Self {
        DeviceInfo {
            device_id: d.device_id,
            name: d.name,
            grant: d.grant.into(),
            created_at: d.created_at,
            last_seen_at: d.last_seen_at,
            revoked: d.revoked,
        }
    }
}

sub_object!(
    /// The relay: join, sync, invites, devices.
    SyncClient
);

#[uniffi::export(async_runtime = "tokio")]
impl SyncClient {
    /// Redeem a one-time join code at a relay (`https://…`), then sync once. The join
    /// stands even if that first sync fails (`JoinInfo.synced` is false and
    /// `sync_error` says why; the next sync completes it). The first coordinator of a
    /// new coop starts its directory here, in `timezone` (IANA; default the device's).
    #[uniffi::method(default(timezone = None))]
    pub async fn join(
        &self,
        relay_url: String,
        code: String,
        device_name: String,
        timezone: Option<String>,
    ) -> Result<JoinInfo> {
        Ok(self
            .core
            .sync()
            .join_with(&relay_url, &code, &device_name, timezone.as_deref())
            .await?)
    }

    /// Push what the relay has not acknowledged, then pull until nothing is left, then
    /// run housekeeping (retention, payroll-number move) on what arrived. Observers hear
    /// about the remote changes it applied.
    pub async fn run(&self) -> Result<SyncSummary> {
        let summary = self.core.sync().run().await?;
        // What arrived may be due for retention (or carry payroll numbers to move):
        // handled now; the erasures go to the relay with the next sync.
        self.core.housekeeping();
        Ok(summary)
    }

    /// Mint a one-time join code for a new device (coordinators). Expires after
    /// `expires_in_hours` (the relay's default, 72 h, if absent).
    #[uniffi::method(default(expires_in_hours = None))]
    pub async fn invite(&self, grant: Grant, expires_in_hours: Option<u32>) -> Result<Invite> {
        let r = self
            .core
            .sync()
            .invite(grant.into(), expires_in_hours)
            .await?;
        Ok(Invite {
            code: r.code,
            expires_at: r.expires_at,
        })
    }

    /// The coop's devices (coordinators).
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>> {
        Ok(self
            .core
            .sync()
            .devices()
            .await?
            .into_iter()
            .map(DeviceInfo::from)
            .collect())
    }

    /// Revoke a device (coordinators): it can no longer sync, and the keys it could read
    /// are rotated. Returns the devices it brought in (certified), to review.
    pub async fn revoke_device(&self, device_id: String) -> Result<Vec<DeviceInfo>> {
        Ok(self
            .core
            .sync()
            .revoke_device(&device_id)
            .await?
            .into_iter()
            .map(DeviceInfo::from)
            .collect())
    }

    /// Devices that could receive `person_id`'s notes key here, and whether approved
    /// (on the person's own device or a supporter's; empty elsewhere).
    pub fn notes_devices(&self, person_id: String) -> Result<Vec<NotesDevice>> {
        Ok(self
            .core
            .sync()
            .notes_devices(&person_id)?
            .into_iter()
            .map(|d| NotesDevice {
                device_key: d.device_key,
                role: d.role.into(),
                approved: d.approved,
            })
            .collect())
    }

    /// Approve a device to receive `person_id`'s notes key (it goes with the next sync).
    pub fn approve_notes_device(&self, person_id: String, device_key: String) -> Result<()> {
        Ok(self
            .core
            .sync()
            .approve_notes_device(&person_id, &device_key)?)
    }

    /// Local changes the relay has not acknowledged yet.
    pub fn pending_changes(&self) -> Result<u64> {
        Ok(self.core.sync().pending_changes()?)
    }

    /// Forget this device's relay membership (after it was revoked, say); data stays.
    pub fn leave_relay(&self) -> Result<()> {
        Ok(self.core.sync().leave_relay()?)
    }
}
