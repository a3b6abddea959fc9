//! # logbook-screens
//!
//! Screen models: what each screen of the apps shows and what each of its buttons does,
//! in Rust, so the Kotlin and Swift front ends only draw (the way matrix-rust-sdk's
//! `matrix-sdk-ui` serves Element X). The bindings (bindings/src/screens.rs) expose them
//! through uniffi.
//!
//! - [`message`]: every string shown to people is a [`Message`] (a key and its values),
//!   never an English sentence; the keys are listed in [`message::keys`].
//! - [`live`]: `subscribe(listener)` on every screen gives the current state first, then
//!   every change (after local writes and after a sync), until the handle is dropped.
//! - The screens: [`join::JoinScreen`], [`kiosk::KioskScreen`],
//!   [`worker::WorkerHomeScreen`] (a worker's phone), [`coordinator::CoordinatorScreens`];
//!   [`sync_status`] is the sync line they share (not the kiosk, which has its badge).
//!
//! Time comes from the logbook's clock (`Logbook::now`), so tests set a `ManualClock`.

// The screens pass the core's `Error` on unchanged (the bindings map it in one place);
// it is large, but a screen is built once and read many times, so boxing it here would
// buy nothing.
#![allow(clippy::result_large_err)]

pub mod coordinator;
pub mod join;
pub mod kiosk;
pub mod live;
pub mod message;
pub mod sync_status;
pub mod worker;

pub use coordinator::{CoordinatorScreens, CoordinatorState};
pub use join::{JoinScreen, JoinState};
pub use kiosk::{KioskConfig, KioskScreen, KioskStage, KioskState, PersonTile};
pub use live::{ScreenListener, ScreenSubscription};
pub use message::{Message, MessageArg, keys};
pub use sync_status::SyncStatus;
pub use worker::{WorkerHomeScreen, WorkerHomeState};
