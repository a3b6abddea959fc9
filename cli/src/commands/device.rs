//! `status`, `rebuild`: the device as a whole.

use anyhow::Result;
use logbook_core::Logbook;

use super::print_json_or_kv;
use crate::output::{self, Format};

pub(crate) fn status(book: &Logbook, format: Format) -> Result<()> {
    let coop = book.directory().coop().ok();
    let grant = book.grant()?;
    let sync = book.sync();
    let v = serde_json::json!({
        "coop": coop.as_ref().map(|c| &c.name),
        "timezone": coop.as_ref().map(|c| &c.timezone),
        "device": book.device_key(),
        // What a person compares before letting this device read their notes.
        "device_code": logbook_screens::worker::device_check_code(&book.device_key()),
        "role": grant.as_ref().map(|g| g.role.as_str()).unwrap_or("standalone"),
        "person": grant.as_ref().and_then(|g| g.person.clone()),
        "site": grant.as_ref().and_then(|g| g.site.clone()),
        "pending_changes": sync.pending_changes()?,
        "last_sync_at": sync.last_sync_at()?.map(output::utc),
        // Received but set aside (does not decode or fit its shape): document ids only.
        "quarantined": book.quarantined()?.iter().map(|q| &q.doc_id).collect::<Vec<_>>(),
    });
    print_json_or_kv(format, &v);
    Ok(())
}

pub(crate) fn rebuild(book: &Logbook) -> Result<()> {
    let s = book.rebuild()?;
    println!(
        "rebuilt the cache from {} documents in {} ms",
        s.documents, s.millis
    );
    Ok(())
}
