//! # logbook-core
//!
//! The offline half of Co-op Logbook: the domain, the automerge documents, the durable
//! local store, the derivation of shifts, the reports, and the sync client.
//!
//! Read top-down (docs/ARCHITECTURE.md maps every file):
//! - [`logbook`]: `Logbook`, the root a device opens. It hands out one handle per
//!   feature: `directory()`, `timesheets()`, `kiosk()`, `training()`, `cpo()`,
//!   `notes()`, `reports()`, `retention()`, `sync()`.
//! - One folder per feature, each owning its documents (`doc.rs`), its cached rows and
//!   their SQL (`cache.rs`), its rules, and its unit tests: [`directory`],
//!   [`timesheets`], [`kiosk`], [`training`], [`cpo`], [`notes`], [`reports`], [`sync`].
//! - Shared ground: [`store`] (the writer, chunks, outbox, meta, schema and migrations,
//!   the cache routing), [`access`] (every permission check), [`clock`] (an injectable
//!   clock), [`model`] (the domain's nouns), [`error`] (messages carry no personal data),
//!   [`observer`] (change notification).
//!
//! The domain rules, the access table and the privacy requirements the code follows are
//! written down in docs/DOMAIN.md.

pub(crate) mod access;
pub mod clock;
pub mod cpo;
pub mod directory;
pub mod error;
pub mod ids;
pub mod kiosk;
pub mod logbook;
pub mod model;
pub mod notes;
pub mod observer;
pub mod reports;
pub mod retention;
pub mod store;
pub mod sync;
pub mod timesheets;
pub mod training;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cpo::CpoProgress;
pub use directory::CoopInfo;
pub use error::{Error, Result};
pub use kiosk::RosterEntry;
pub use logbook::{Logbook, RebuildSummary};
pub use logbook_protocol as protocol;
pub use model::*;
pub use observer::{ChangeOrigin, LogbookObserver, Subscription};
pub use reports::{
    AttendanceRow, CpoReport, CpoSession, Figure, HeadcountMonth, HeadcountReturn, HoursRow,
    ImpactReport, ImpactWeek, PayrollMinutes, PayrollReport, PayrollRow, PendingWeek, RatioReport,
};
pub use retention::RetentionItem;
pub use store::StoreKey;
pub use store::key::open_raw as open_raw_store;
pub use store::quarantine::QuarantinedDoc;
pub use sync::{JoinInfo, SyncSummary};
pub use timesheets::{AuditEntry, ShiftCorrection, WeekState};
pub use training::NewTraining;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
