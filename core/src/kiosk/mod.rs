//! The kiosk: the shared tablet at a site. People pick their name, enter their PIN and
//! tap. PINs are checked offline against the site's roster; repeated wrong PINs lock
//! that person out at this kiosk for a while. A kiosk writes punches but never reads
//! timesheets, notes, training or CPO records (docs/DOMAIN.md, access table).
//!
//! - [`pin`]: PIN verifiers. [`lockout`]: the lockout rule.

pub(crate) mod lockout;
pub mod pin;

use rusqlite::{OptionalExtension, params};

use crate::error::{Error, Result};
use crate::logbook::Logbook;
use crate::model::{HourType, PunchKind, PunchSource, UnixSeconds};
use crate::observer::ChangeOrigin;
use crate::store::meta;
use lockout::{AfterWrongPin, Lockout};

/// A person as a kiosk shows them: a name to tap, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RosterEntry {
    pub person_id: String,
    pub name: String,
}

/// Observers hear this name when a kiosk's lockout counts changed.
pub(crate) const LOCKOUTS: &str = "kiosk:lockouts";

/// `logbook.kiosk()`.
#[derive(Clone, Copy)]
pub struct Kiosk<'a> {
    lb: &'a Logbook,
}

impl<'a> Kiosk<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Kiosk<'a> {
        Kiosk { lb }
    }

    /// The people a kiosk may show: a site's roster (names only).
    pub fn roster(&self, site_id: &str) -> Result<Vec<RosterEntry>> {
        self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT person, name FROM roster WHERE site = ?1 AND active ORDER BY name",
            )?;
            let rows = stmt.query_map([site_id], |r| {
                Ok(RosterEntry {
                    person_id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Who is on shift now (as this device knows), by name.
    pub fn on_shift(&self) -> Result<Vec<RosterEntry>> {
        let t = self.lb.store.now();
        self.lb.store.read(|c| {
            let settings = meta::settings(c)?;
            let mut stmt = c.prepare_cached(
                "SELECT s.person, coalesce(p.name, r.name, s.person) FROM shifts s
                 LEFT JOIN people p ON p.id = s.person
                 LEFT JOIN (SELECT person, min(name) AS name FROM roster GROUP BY person) r ON r.person = s.person
                 WHERE s.status = 'open' AND s.start > ?1 ORDER BY 2",
            )?;
            let rows = stmt.query_map([t - settings.review_after_seconds], |r| {
                Ok(RosterEntry {
                    person_id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// A kiosk tap: check the PIN offline (with lockout), then punch. On a kiosk this is
    /// the only way to tap.
    pub fn punch(
        &self,
        person_id: &str,
        entered_pin: &str,
        kind: PunchKind,
        at: Option<UnixSeconds>,
        hour_type: Option<HourType>,
    ) -> Result<String> {
        // The grant is read once for the PIN check and the tap.
        let access = self.lb.access();
        self.check_pin_with(&access, person_id, entered_pin)?;
        self.lb.timesheets().record(
            &access,
            person_id,
            kind,
            at,
            hour_type,
            None,
            PunchSource::Kiosk,
        )
    }

    /// Check a person's PIN at this kiosk. A wrong PIN is `WrongPin` (with the tries
    /// left); after the coop's maximum the person is `LockedOut` here for a while. A
    /// right PIN clears the count. The count is written through the store's writer, so
    /// observers (the kiosk screen) hear about it.
    pub fn check_pin(&self, person_id: &str, entered_pin: &str) -> Result<()> {
        self.check_pin_with(&self.lb.access(), person_id, entered_pin)
    }

    fn check_pin_with(
        &self,
        access: &crate::access::Access,
        person_id: &str,
        entered_pin: &str,
    ) -> Result<()> {
        access.require_pin_pad()?;
        pin::validate_pin(entered_pin)?;
        let site = access.site().map(str::to_string);
        let now = self.lb.store.now();
        let (verifier, lockout) = self.lb.store.read(|c| {
            let verifier: Option<Option<String>> = match &site {
                Some(site) => c
                    .query_row(
                        "SELECT pin FROM roster WHERE site = ?1 AND person = ?2 AND active",
                        params![site, person_id],
                        |r| r.get(0),
                    )
                    .optional()?,
                // A coordinator's device standing in for a kiosk: any site's verifier.
                None => crate::directory::cache::any_pin(c, person_id)?.map(Some),
            };
            Ok((verifier, read_lockout(c, person_id)?))
        })?;
        let Some(verifier) = verifier else {
            return Err(Error::not_found(format!(
                "unknown person {person_id} at this kiosk"
            )));
        };
        let Some(verifier) = verifier else {
            return Err(Error::conflict(
                "no PIN is set for this person: ask a coordinator",
            ));
        };
        if let Some(seconds) = lockout.remaining(now) {
            return Err(Error::LockedOut {
                retry_after_seconds: seconds,
            });
        }
        // The slow verifier runs outside the write lock; the count is re-read inside it.
        let right = pin::check(entered_pin, &verifier)?;
        let outcome = self.lb.store.write(ChangeOrigin::Local, |w| {
            let current = read_lockout(&w.tx, person_id)?;
            if right {
                if current != Lockout::default() {
                    w.tx.execute("DELETE FROM kiosk_lockouts WHERE person = ?1", [person_id])?;
                    w.touch(LOCKOUTS);
                }
                return Ok(None);
            }
            let settings = meta::settings(&w.tx)?;
            let (next, outcome) = current.after_wrong_pin(w.now, &settings);
            w.tx.execute(
                "INSERT INTO kiosk_lockouts (person, failures, locked_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (person) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                params![person_id, next.failures, next.locked_until],
            )?;
            w.touch(LOCKOUTS);
            Ok(Some(outcome))
        })?;
        match outcome {
            None => Ok(()),
            Some(AfterWrongPin::TriesLeft(tries_left)) => Err(Error::WrongPin { tries_left }),
            Some(AfterWrongPin::LockedOut(seconds)) => Err(Error::LockedOut {
                retry_after_seconds: seconds,
            }),
        }
    }

    /// Seconds a person must still wait before trying a PIN at this kiosk (0 if none).
    pub fn lockout_remaining(&self, person_id: &str) -> Result<i64> {
        let now = self.lb.store.now();
        let lockout = self.lb.store.read(|c| read_lockout(c, person_id))?;
        Ok(lockout.remaining(now).unwrap_or(0))
    }
}

/// A kiosk forgets its taps once the relay holds them and they are older than the review
/// window (16 hours by default): it needs no more than that to refuse a double tap, and a
/// stolen kiosk then shows nobody's working pattern or hour types (a CPO among them).
/// Whole punch documents (one person, one month) go, locally only: nothing is erased at
/// the relay. Returns how many documents were forgotten.
pub(crate) fn forget_acknowledged_taps(lb: &Logbook) -> Result<u32> {
    if !lb.access().is_kiosk() {
        return Ok(0);
    }
    let now = lb.store.now();
    let forgotten = lb.store.write(ChangeOrigin::Sync, |w| {
        let settings = meta::settings(&w.tx)?;
        let docs: Vec<String> = {
            let mut stmt = w.tx.prepare_cached(
                "SELECT doc FROM punches WHERE doc NOT IN (SELECT doc FROM outbox)
                 GROUP BY doc HAVING max(at) < ?1",
            )?;
            let rows = stmt.query_map([now - settings.review_after_seconds], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for doc in &docs {
            w.forget(doc)?;
        }
        if !docs.is_empty() {
            // A later tap for the same person and month starts the document again here.
            w.new_actor()?;
        }
        Ok(docs.len() as u32)
    })?;
    if forgotten > 0 {
        lb.store.scrub_wal()?;
    }
    Ok(forgotten)
}

fn read_lockout(c: &rusqlite::Connection, person: &str) -> Result<Lockout> {
    Ok(
        c.prepare_cached("SELECT failures, locked_until FROM kiosk_lockouts WHERE person = ?1")?
            .query_row([person], |r| {
                Ok(Lockout {
                    failures: r.get(0)?,
                    locked_until: r.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const T0: i64 = 1_795_000_000;

    #[test]
    fn a_locked_out_person_may_try_again_once_the_lockout_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at(T0);
        let lb = Logbook::open_with_clock(
            dir.path(),
            &crate::StoreKey::insecure_test_key(),
            clock.clone(),
        )
        .unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let site = lb.directory().add_site("Cafe").unwrap();
        let p = lb
            .directory()
            .add_person("Ann", &[], &[site], false)
            .unwrap();
        lb.directory().set_pin(&p, "1234").unwrap();
        let kiosk = lb.kiosk();
        for left in [4, 3, 2, 1] {
            match kiosk.check_pin(&p, "0000") {
                Err(Error::WrongPin { tries_left }) => assert_eq!(tries_left, left),
                other => panic!("expected a wrong PIN, got {other:?}"),
            }
        }
        assert!(matches!(
            kiosk.check_pin(&p, "0000"),
            Err(Error::LockedOut {
                retry_after_seconds: 900
            })
        ));
        // Even the right PIN waits out the lockout.
        clock.advance(899);
        assert!(matches!(
            kiosk.check_pin(&p, "1234"),
            Err(Error::LockedOut {
                retry_after_seconds: 1
            })
        ));
        assert_eq!(kiosk.lockout_remaining(&p).unwrap(), 1);
        clock.advance(1);
        kiosk.check_pin(&p, "1234").unwrap();
        assert_eq!(kiosk.lockout_remaining(&p).unwrap(), 0);
    }
}
