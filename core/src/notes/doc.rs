//! One peer-support note thread (`notes:<person>/<thread>`): a document of its own, so
//! deleting the thread removes its whole history everywhere.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct NotesDoc {
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub entries: HashMap<String, NoteEntryDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct NoteEntryDoc {
    pub author: String,
    pub text: String,
    pub created_at: i64,
    #[autosurgeon(missing = "Default::default")]
    pub edited_at: Option<i64>,
}
