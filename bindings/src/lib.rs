//! # logbook-ffi
//!
//! The thin uniffi layer the Android and iOS apps (and Python scripts) use over
//! `logbook-core`. Nothing here decides anything: every call forwards to the core and maps
//! its error in one place ([`error`]). Read top-down:
//!
//! - [`logbook`]: `Logbook`, the root object (open, init, subscribe) and its sub-objects.
//! - [`directory`], [`kiosk`], [`timesheets`], [`records`] (training and CPO), [`notes`],
//!   [`reports`], [`sync`]: one sub-object per feature of the core.
//! - [`observer`]: the foreign observer trait and the subscription handle.
//! - [`screens`]: the screen models (crate logbook-screens): kiosk, join, a worker's
//!   phone, the coordinator's screens; each with `state()`, actions and `subscribe`.
//! - [`error`]: the flat public `LogbookError` (Kotlin `LogbookException`).
//! - [`live`]: a count of live native objects, for leak tests.
//!
//! Plain records and enums (shifts, people, reports…) are derived in the core behind its
//! `uniffi` feature, so they form a second uniffi component (`logbook_core`; Kotlin package
//! `coop.logbook.core`, see `core/uniffi.toml`).

pub mod directory;
pub mod error;
pub mod kiosk;
pub mod live;
pub mod logbook;
pub mod notes;
pub mod observer;
pub mod records;
pub mod reports;
pub mod screens;
pub mod sync;
pub mod timesheets;

pub use error::LogbookError;
pub use logbook::{Logbook, StoreKeyProvider};

uniffi::setup_scaffolding!();
