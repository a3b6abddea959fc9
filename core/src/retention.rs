//! Retention that runs itself (docs/DOMAIN.md, "Privacy and safety requirements"):
//!
//! - a CPO order's document is erased once the conviction is taken to be spent: on the
//!   spent date a coordinator set for that order, else `cpo_retention_days` (a setting,
//!   default 365) after the order's deadline;
//! - a note thread is erased `notes_retention_days` (a setting, default 730; 0 = never)
//!   after its last entry.
//!
//! Nobody has to remember: [`Retention::run`] runs every time a logbook is opened (and
//! the CLI and the FFI run it after every sync). Each device erases only what the access table lets
//! it erase, through the same `erase_doc` path a person's own "erase" uses (history
//! included, queued to the relay, which tells every other device): CPO orders on a
//! coordinator's device, note threads on the person's own device and their supporters'
//! (a coordinator may not erase notes: docs/DOMAIN.md, access table). A standalone
//! logbook erases both. Kiosks hold neither; their taps are forgotten by `kiosk/`.

use jiff::civil::Date;
use logbook_protocol::Scope;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::logbook::Logbook;
use crate::store::meta;
use crate::timesheets::derive;

/// Something retention will erase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RetentionItem {
    /// `cpo_order` or `note_thread`.
    pub kind: String,
    pub person_id: String,
    /// The order's id, or the thread's document id.
    pub id: String,
    /// The first day it is erased on (coop time zone), `YYYY-MM-DD`.
    pub erase_on: String,
    /// The rule that set the date, in words.
    pub rule: String,
}

/// `logbook.retention()`.
#[derive(Clone, Copy)]
pub struct Retention<'a> {
    lb: &'a Logbook,
}

fn add_days(d: Date, days: u32) -> Result<Date> {
    d.checked_add(jiff::Span::new().days(i64::from(days)))
        .map_err(|_| Error::invalid("a retention date is out of range"))
}

impl<'a> Retention<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Retention<'a> {
        Retention { lb }
    }

    /// What this device will erase and from when, soonest first. Items already due are
    /// erased by [`Retention::run`] (which opening the logbook does). A kiosk holds
    /// nothing retention erases.
    pub fn plan(&self) -> Result<Vec<RetentionItem>> {
        self.items(None)
    }

    /// The items, all or (with `due_by`) only those due on that day or before. The due
    /// notes are picked in SQL, so a run on open stays a few indexed reads however many
    /// threads a device holds.
    fn items(&self, due_by: Option<Date>) -> Result<Vec<RetentionItem>> {
        let access = self.lb.access();
        let (settings, tz) = self
            .lb
            .store
            .read(|c| Ok((meta::settings(c)?, meta::coop_timezone(c)?)))?;
        let orders: Vec<(String, String, String, Option<String>)> = self.lb.store.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT person, id, deadline, spent_on FROM cpo_orders")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })?;
        let mut out = Vec::new();
        for (person, id, deadline, spent_on) in orders {
            if access
                .require_delete(&Scope::Records(person.clone()))
                .is_err()
            {
                continue;
            }
            let (erase_on, rule) = match spent_on {
                Some(spent) => {
                    let d: Date = spent
                        .parse()
                        .map_err(|_| Error::Corrupt("bad spent date".into()))?;
                    (
                        d,
                        "the spent date a coordinator set for the order".to_string(),
                    )
                }
                None => {
                    let d: Date = deadline
                        .parse()
                        .map_err(|_| Error::Corrupt("bad CPO deadline".into()))?;
                    (
                        add_days(d, settings.cpo_retention_days)?,
                        format!(
                            "{} days after the order's deadline {deadline}",
                            settings.cpo_retention_days
                        ),
                    )
                }
            };
            out.push(RetentionItem {
                kind: "cpo_order".into(),
                person_id: person,
                id,
                erase_on: erase_on.to_string(),
                rule,
            });
        }
        if settings.notes_retention_days > 0 {
            // A thread is due on `due_by` if its last entry's local date is on or before
            // `due_by` - N days: before the local midnight that starts the day after.
            let before = match due_by {
                None => i64::MAX,
                Some(d) => d
                    .checked_sub(jiff::Span::new().days(i64::from(settings.notes_retention_days)))
                    .and_then(|d| d.tomorrow())
                    .and_then(|d| d.to_zoned(tz.clone()))
                    .map_err(|_| Error::invalid("a retention date is out of range"))?
                    .timestamp()
                    .as_second(),
            };
            let threads: Vec<(String, String, i64)> = self.lb.store.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT person, doc, updated_at FROM note_threads WHERE updated_at < ?1",
                )?;
                let rows = stmt.query_map([before], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<std::result::Result<_, _>>()?)
            })?;
            for (person, doc, updated_at) in threads {
                if access
                    .require_delete(&Scope::Notes(person.clone()))
                    .is_err()
                {
                    continue;
                }
                let last = derive::local_date(updated_at, &tz);
                out.push(RetentionItem {
                    kind: "note_thread".into(),
                    person_id: person,
                    id: doc,
                    erase_on: add_days(last, settings.notes_retention_days)?.to_string(),
                    rule: format!(
                        "{} days after the thread's last entry on {last}",
                        settings.notes_retention_days
                    ),
                });
            }
        }
        out.sort_by(|a, b| (&a.erase_on, &a.kind, &a.id).cmp(&(&b.erase_on, &b.kind, &b.id)));
        Ok(out)
    }

    /// Erase everything whose date has come (today or earlier, coop time zone). Returns
    /// how many documents were erased.
    pub fn run(&self) -> Result<u32> {
        if self.lb.access().is_kiosk() {
            return Ok(0);
        }
        let today = self.lb.directory().today()?;
        let today_s = today.to_string();
        let mut erased = 0;
        for item in self.items(Some(today))? {
            if item.erase_on > today_s {
                break;
            }
            let doc = match item.kind.as_str() {
                "cpo_order" => crate::store::documents::cpo_doc(&item.person_id, &item.id),
                _ => item.id.clone(),
            };
            match self.lb.erase_doc(&doc) {
                Ok(()) => erased += 1,
                // Erased meanwhile (e.g. by another process on this store): nothing to do.
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::ManualClock;
    use crate::logbook::Logbook;

    fn t(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().expect("instant").as_second()
    }

    fn held(lb: &Logbook, prefix: &str) -> bool {
        lb.export_chunks()
            .expect("chunks")
            .iter()
            .any(|(doc, _)| doc.starts_with(prefix))
    }

    /// Ann's 40-hour order runs 2 Nov 2026 - 2 Feb 2027; a note thread about her is
    /// written on 1 Dec 2026. Nobody asks for an erasure: opening the logbook does it.
    #[test]
    fn spent_orders_and_old_notes_are_erased_when_the_logbook_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::at(t("2026-12-01T12:00:00Z"));
        let open = || {
            Logbook::open_with_clock(
                dir.path(),
                &crate::StoreKey::insecure_test_key(),
                clock.clone(),
            )
            .expect("open")
        };
        let lb = open();
        lb.directory().init("Café", "Europe/London").expect("init");
        let ann = lb
            .directory()
            .add_person("Ann", &[], &[], true)
            .expect("ann");
        let order = lb
            .cpo()
            .set_order(&ann, 40, "2026-11-02", None)
            .expect("order");
        let thread = lb.notes().add_thread(&ann, "Settling in.").expect("thread");
        let cpo_doc = format!("records:{ann}/cpo/");
        let note_doc = format!("notes:{ann}/");

        // Default rules: the order 365 days after its deadline (2 Feb 2028); the thread
        // 730 days after its last entry (1 Dec 2026 + 730 days = 30 Nov 2028, 2028
        // being a leap year).
        let plan = |lb: &Logbook| -> Vec<(String, String)> {
            lb.retention()
                .plan()
                .expect("plan")
                .into_iter()
                .map(|i| (i.kind, i.erase_on))
                .collect()
        };
        let p = |k: &str, d: &str| (k.to_string(), d.to_string());
        assert_eq!(
            plan(&lb),
            vec![p("cpo_order", "2028-02-02"), p("note_thread", "2028-11-30")]
        );
        // The coordinator knows the conviction is spent on 30 June 2027.
        lb.cpo()
            .set_spent_on(&ann, &order, Some("2027-06-30"))
            .expect("spent");
        assert_eq!(
            plan(&lb),
            vec![p("cpo_order", "2027-06-30"), p("note_thread", "2028-11-30")]
        );
        assert!(matches!(
            lb.cpo().set_spent_on(&ann, "o-nope", Some("2027-06-30")),
            Err(crate::Error::NotFound(_))
        ));
        assert!(matches!(
            lb.cpo().set_spent_on(&ann, &order, Some("30/06/2027")),
            Err(crate::Error::Invalid(_))
        ));
        drop(lb);

        // The day before (23:30 in London, on summer time): nothing goes.
        clock.set(t("2027-06-29T22:30:00Z"));
        let lb = open();
        assert!(held(&lb, &cpo_doc));
        assert_eq!(lb.cpo().orders(&ann).expect("orders").len(), 1);
        drop(lb);
        // 30 June (00:30 in London is 23:30 UTC the day before): the order goes at open,
        // history included; the notes stay.
        clock.set(t("2027-06-29T23:30:00Z"));
        let lb = open();
        assert!(lb.cpo().orders(&ann).expect("orders").is_empty());
        assert!(!held(&lb, &cpo_doc), "the order's chunks are gone");
        assert!(held(&lb, &note_doc));
        assert_eq!(plan(&lb), vec![p("note_thread", "2028-11-30")]);
        drop(lb);

        // The coop shortens the notes' retention to 365 days: the thread is due on
        // 1 Dec 2027; `run` (or the next open) erases it.
        clock.set(t("2027-12-01T09:00:00Z"));
        let lb = open();
        assert!(held(&lb, &note_doc));
        lb.directory().set_retention(None, Some(365)).expect("set");
        assert!(matches!(
            lb.directory().set_retention(Some(40_000), None),
            Err(crate::Error::Invalid(_))
        ));
        assert_eq!(lb.retention().run().expect("run"), 1);
        assert!(!held(&lb, &note_doc));
        assert!(lb.notes().threads(&ann).expect("threads").is_empty());
        assert!(!thread.is_empty());
        assert_eq!(lb.retention().run().expect("again"), 0);
    }
}
