//! The timesheet documents: punches of one person in one month by one device
//! (`timesheet:<person>/<yyyy-mm>/<device>`, written only by that device) and the
//! coordinators' review events for one person, one year, one coordinator device
//! (`review:<person>/<yyyy>/<device>`). Both are append-only maps of events.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PunchesDoc {
    #[autosurgeon(missing = "Default::default")]
    pub punches: HashMap<String, PunchDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PunchDoc {
    pub kind: String,
    pub at: i64,
    pub device: String,
    pub source: String,
    pub hour_type: String,
    #[autosurgeon(missing = "Default::default")]
    pub site: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ReviewDoc {
    #[autosurgeon(missing = "Default::default")]
    pub events: HashMap<String, ReviewEventDoc>,
}

/// A coordinator's correction, approval or week lock.
#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ReviewEventDoc {
    /// `correction`, `approval` or `lock`.
    pub kind: String,
    #[autosurgeon(missing = "Default::default")]
    pub shift_id: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub start: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub end: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub hour_type: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub break_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub void: bool,
    /// Monday of the week, for approvals and locks.
    #[autosurgeon(missing = "Default::default")]
    pub week_start: Option<String>,
    pub reason: String,
    /// The shift as the coordinator saw it before the edit (JSON), for the audit trail.
    #[autosurgeon(missing = "Default::default")]
    pub before: Option<String>,
    pub by: String,
    pub at: i64,
}
