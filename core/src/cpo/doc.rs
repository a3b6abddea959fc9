//! One CPO order (`records:<person>/cpo/<order>`): a document of its own, so erasing
//! the order when the conviction is spent erases its whole history.

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct CpoDoc {
    #[autosurgeon(missing = "Default::default")]
    pub hours_ordered: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub start_date: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub deadline: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub other_activity_cap_minutes: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<i64>,
    /// The day the conviction is spent, if a coordinator set it (`YYYY-MM-DD`): the
    /// order is erased from then on (retention.rs).
    #[autosurgeon(missing = "Default::default")]
    pub spent_on: Option<String>,
}
