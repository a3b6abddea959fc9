//! A person's training document (`records:<person>/training`): training records with
//! their certificates, and the induction checklist.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct TrainingDoc {
    #[autosurgeon(missing = "Default::default")]
    pub records: HashMap<String, TrainingRecordDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub induction: HashMap<String, InductionDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct TrainingRecordDoc {
    pub course_id: String,
    pub course_name: String,
    pub date: String,
    pub minutes: i64,
    #[autosurgeon(missing = "Default::default")]
    pub provider: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub certificate_ref: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub expires_on: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub trainee_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct InductionDoc {
    pub label: String,
    #[autosurgeon(missing = "Default::default")]
    pub trainee_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor: Option<String>,
}
