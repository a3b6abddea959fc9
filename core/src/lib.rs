//! # logbook-core
//!
//! The offline half of Co-op Logbook: the domain, the automerge documents, the durable
//! local store, the derivation of shifts, the reports, and the sync client.
//!
//! Read top-down:
//! - [`logbook`]: `Logbook`, the public API a device uses (open, punch, review, training,
//!   CPO, notes). Every write is one fsynced SQLite transaction.
//! - [`reports`]: hours, CPO progress, training expiry, head-count ratio, subject access.
//! - [`sync`]: join a relay, push and pull blobs.
//! - [`model`]: the domain's nouns. [`derive`]: punches → shifts, pure. [`cpo`]: CPO rules.
//! - [`docs`]: the automerge document kinds. [`db`]: SQLite, migrations, chunks.
//!   [`index`]: the cached tables derived from documents. [`pin`]: kiosk PINs.
//! - [`error`]: the rich error; messages carry no personal data.

pub mod cpo;
pub mod db;
pub mod derive;
pub mod docs;
pub mod error;
pub mod ids;
pub mod index;
pub mod logbook;
pub mod model;
pub mod observer;
pub mod pin;
pub mod reports;
pub mod sync;

pub use error::{Error, Result};
pub use logbook::{AuditEntry, CoopInfo, Logbook, NewTraining, RebuildSummary, ShiftCorrection};
pub use logbook_protocol as protocol;
pub use model::*;
pub use observer::{ChangeOrigin, LogbookObserver, Subscription};
pub use reports::{HoursRow, RatioReport};

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
