//! `Logbook`: one device's store and everything a device does without a relay. Every
//! write runs in one IMMEDIATE transaction that appends the document change, queues it
//! for the relay, refreshes the cached tables and is fsynced before returning.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::{ActorId, Automerge, ROOT, transaction::CommitOptions};
use logbook_protocol::{Grant, Role, Scope};
use rusqlite::{Connection, OptionalExtension, params};

use crate::db;
use crate::derive;
use crate::docs::{self, DocKind};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::index;
use crate::model::*;
use crate::observer::{ChangeOrigin, Observers};
use crate::pin;

/// Cached documents with the id of the newest chunk they include.
type DocCache = HashMap<String, (i64, Automerge)>;

/// Compact a document's chunks into one snapshot once it has more than this many.
const COMPACT_AFTER_CHUNKS: i64 = 64;

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    cache: DocCache,
    pub(crate) device: Device,
}

/// This device: the key that names its documents, its automerge actor, its name.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) key: String,
    actor: ActorId,
    pub(crate) name: String,
}

/// One device's logbook.
pub struct Logbook {
    home: PathBuf,
    pub(crate) inner: Mutex<Inner>,
    pub(crate) observers: Observers,
}

/// The coop as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CoopInfo {
    pub name: String,
    pub timezone: String,
    pub settings: Settings,
}

/// A shift with its status as of now (an old open shift reads as needing review).
pub type ShiftView = Shift;

/// One entry of a shift's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditEntry {
    pub event_id: String,
    /// `correction`, `approval` or `lock`.
    pub kind: String,
    pub by: String,
    pub at: UnixSeconds,
    pub reason: String,
    /// The shift as it was before, as JSON (corrections only).
    pub before: Option<String>,
    /// What the correction set, as JSON (corrections only).
    pub change: Option<String>,
}

/// What a coordinator changes about a shift. `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShiftCorrection {
    pub start: Option<UnixSeconds>,
    pub end: Option<UnixSeconds>,
    pub hour_type: Option<HourType>,
    pub break_seconds: Option<i64>,
    pub void: bool,
    pub reason: String,
}

/// A new training record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewTraining {
    pub person_id: String,
    /// A course id, or a course name (matched case-insensitively; created if new).
    pub course: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub minutes: u32,
    pub provider: Option<String>,
    pub certificate_ref: Option<String>,
    /// `YYYY-MM-DD`; defaults to the date plus the course's review period.
    pub expires_on: Option<String>,
    pub trainee_signed: bool,
    pub supervisor_signed: bool,
}

pub(crate) fn now() -> UnixSeconds {
    jiff::Timestamp::now().as_second()
}

pub(crate) fn parse_date(s: &str) -> Result<jiff::civil::Date> {
    s.parse()
        .map_err(|_| Error::invalid("dates are written YYYY-MM-DD"))
}

fn json_err(e: serde_json::Error) -> Error {
    Error::Corrupt(e.to_string())
}

/// A write in progress: one SQLite transaction plus the documents it changed.
pub(crate) struct Writer<'a> {
    pub(crate) tx: rusqlite::Transaction<'a>,
    cache: &'a mut DocCache,
    device: &'a Device,
    pending: HashMap<String, (i64, Automerge)>,
    rederive: BTreeSet<(String, Option<(i64, String)>)>,
    pub(crate) scopes: BTreeSet<String>,
}

impl<'a> Writer<'a> {
    /// The document as stored (or its genesis if new), from this write, the cache or disk.
    pub(crate) fn load(&mut self, doc_id: &str) -> Result<Automerge> {
        if let Some((_, doc)) = self.pending.get(doc_id) {
            return Ok(doc.clone());
        }
        Ok(load_doc(&self.tx, self.cache, doc_id)?.1)
    }

    /// Apply `f` as one automerge change to `doc_id`, store and queue it, refresh the cache.
    pub(crate) fn change<F>(&mut self, doc_id: &str, f: F) -> Result<()>
    where
        F: FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<()>,
    {
        let kind = DocKind::of(doc_id)?;
        let mut doc = self.load(doc_id)?;
        let existed = db::last_chunk_id(&self.tx, doc_id)? > 0 || self.pending.contains_key(doc_id);
        let heads = doc.get_heads();
        doc.set_actor(self.device.actor.clone());
        let mut t = doc.transaction();
        f(&mut t)?;
        t.commit_with(CommitOptions::default().with_time(now()));
        let bytes = if existed {
            doc.save_after(&heads)
        } else {
            doc.save()
        };
        let mut last = db::append_chunk(&self.tx, doc_id, &bytes, true)?;
        if db::chunk_count(&self.tx, doc_id)? > COMPACT_AFTER_CHUNKS
            && automerge::ReadDoc::get_missing_deps(&doc, &[]).is_empty()
        {
            last = db::replace_with_snapshot(&self.tx, doc_id, &doc.save())?;
        }
        self.after_change(doc_id, kind, last, doc, None)
    }

    /// Merge chunks that arrived from the relay. Returns how many added something new.
    pub(crate) fn merge_remote(&mut self, doc_id: &str, blobs: &[Vec<u8>]) -> Result<usize> {
        let kind = DocKind::of(doc_id)?;
        let mut doc = self.load(doc_id)?;
        let mut last = db::last_chunk_id(&self.tx, doc_id)?;
        let mut added = 0;
        for blob in blobs {
            let before = doc.get_heads();
            // A blob that does not parse is skipped (and kept out of the store): the relay
            // is untrusted transport, and one bad blob must not block the others.
            if doc.load_incremental(blob).is_err() {
                doc = self.load(doc_id)?;
                continue;
            }
            if doc.get_heads() != before
                || !automerge::ReadDoc::get_missing_deps(&doc, &[]).is_empty()
            {
                last = db::append_chunk(&self.tx, doc_id, blob, false)?;
                added += 1;
            }
        }
        if added > 0 {
            self.after_change(doc_id, kind, last, doc, None)?;
        }
        Ok(added)
    }

    fn after_change(
        &mut self,
        doc_id: &str,
        _kind: DocKind,
        last: i64,
        doc: Automerge,
        since: Option<(i64, String)>,
    ) -> Result<()> {
        if let Some(person) = index::refresh_doc(&self.tx, doc_id, &doc)? {
            self.rederive.insert((person, since));
        }
        if let Ok(scope) = Scope::of_doc(doc_id) {
            self.scopes.insert(scope.to_string());
        }
        self.pending.insert(doc_id.to_string(), (last, doc));
        Ok(())
    }

    /// Record that only shifts from this punch on can have changed (the hot path).
    pub(crate) fn narrow_rederive(&mut self, person: &str, at: i64, punch_id: &str) {
        self.rederive
            .retain(|(p, since)| !(p == person && since.is_none()));
        self.rederive
            .insert((person.to_string(), Some((at, punch_id.to_string()))));
    }

    /// Erase a document here: chunks, queued changes, cached rows.
    pub(crate) fn erase(&mut self, doc_id: &str) -> Result<()> {
        db::erase_doc(&self.tx, doc_id)?;
        self.cache.remove(doc_id);
        self.pending.remove(doc_id);
        if let Some(person) = index::forget_doc(&self.tx, doc_id)? {
            self.rederive.insert((person, None));
        }
        if let Ok(scope) = Scope::of_doc(doc_id) {
            self.scopes.insert(scope.to_string());
        }
        Ok(())
    }

    fn finish(mut self) -> Result<BTreeSet<String>> {
        // A full re-derivation of a person makes any narrower one for them redundant.
        let full: BTreeSet<String> = self
            .rederive
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        for (person, since) in std::mem::take(&mut self.rederive) {
            if since.is_some() && full.contains(&person) {
                continue;
            }
            index::rederive_person(
                &self.tx,
                &person,
                since.as_ref().map(|(a, i)| (*a, i.as_str())),
            )?;
        }
        self.tx.commit()?;
        // Only now, with the change durable, may the cache hold it.
        for (doc_id, entry) in self.pending {
            put_back(self.cache, doc_id, entry);
        }
        Ok(self.scopes)
    }
}

/// A document and the id of its newest chunk, taken out of the cache when it is current
/// there (no copy), else loaded from its chunks. Whoever takes it puts it back when done:
/// a write after its commit, a read at once; a failed write leaves it out, to be loaded
/// again from disk next time.
fn load_doc(conn: &Connection, cache: &mut DocCache, doc_id: &str) -> Result<(i64, Automerge)> {
    let kind = DocKind::of(doc_id)?;
    let last = db::last_chunk_id(conn, doc_id)?;
    if let Some((cached_last, doc)) = cache.remove(doc_id)
        && cached_last == last
    {
        return Ok((last, doc));
    }
    let (chunks, last) = db::doc_chunks(conn, doc_id)?;
    Ok((last, docs::load(kind, &chunks)?))
}

fn put_back(cache: &mut DocCache, doc_id: String, entry: (i64, Automerge)) {
    if cache.len() > 256 {
        cache.clear();
    }
    cache.insert(doc_id, entry);
}

impl Logbook {
    /// Open the logbook in `home`, creating an empty store if there is none. Cheap: reads
    /// a few meta rows, loads no document.
    pub fn open(home: impl AsRef<Path>) -> Result<Logbook> {
        let home = home.as_ref().to_path_buf();
        let conn = db::open(&home)?;
        let device = match (
            db::get_meta(&conn, "device_key")?,
            db::get_meta(&conn, "actor")?,
        ) {
            (Some(key), Some(actor)) => Device {
                key,
                actor: ActorId::try_from(actor.as_str())
                    .map_err(|_| Error::Corrupt("bad actor id".into()))?,
                name: db::get_meta(&conn, "device_name")?.unwrap_or_else(|| "this device".into()),
            },
            _ => {
                let device = Device {
                    key: new_id("d"),
                    actor: ActorId::random(),
                    name: "this device".into(),
                };
                db::set_meta(&conn, "device_key", &device.key)?;
                db::set_meta(&conn, "actor", &device.actor.to_hex_string())?;
                device
            }
        };
        Ok(Logbook {
            home,
            inner: Mutex::new(Inner {
                conn,
                cache: HashMap::new(),
                device,
            }),
            observers: Observers::default(),
        })
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll
        // back), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` as one durable write, then tell observers what changed.
    pub(crate) fn write<T>(
        &self,
        origin: ChangeOrigin,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        let scopes;
        let out;
        {
            let mut guard = self.lock();
            let Inner {
                conn,
                cache,
                device,
            } = &mut *guard;
            let tx = db::write_tx(conn)?;
            let mut w = Writer {
                tx,
                cache,
                device,
                pending: HashMap::new(),
                rederive: BTreeSet::new(),
                scopes: BTreeSet::new(),
            };
            out = f(&mut w)?;
            scopes = w.finish()?;
        }
        if !scopes.is_empty() {
            self.observers.notify(origin, scopes.into_iter().collect());
        }
        Ok(out)
    }

    /// Read from the cache tables.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let guard = self.lock();
        f(&guard.conn)
    }

    // ---------- device identity and role ----------

    /// The grant this device received when it joined a relay (`None` if it never joined:
    /// a standalone logbook may do everything).
    pub fn grant(&self) -> Result<Option<Grant>> {
        self.read(|c| {
            db::get_meta(c, "grant")?
                .map(|g| serde_json::from_str(&g).map_err(json_err))
                .transpose()
        })
    }

    pub fn device_key(&self) -> String {
        self.lock().device.key.clone()
    }

    pub fn set_device_name(&self, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.len() > 80 {
            return Err(Error::invalid("a device name is 1-80 characters"));
        }
        let mut g = self.lock();
        db::set_meta(&g.conn, "device_name", name)?;
        g.device.name = name.to_string();
        Ok(())
    }

    /// Refuse locally what the relay would refuse, so a device never queues a change
    /// that would block its sync.
    fn require_write(&self, scope: &Scope) -> Result<()> {
        match self.grant()? {
            Some(g) if !logbook_protocol::may_write(&g, scope) => Err(Error::forbidden(format!(
                "a {} device may not change that",
                g.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    fn require_read(&self, scope: &Scope) -> Result<()> {
        match self.grant()? {
            // Coordinators hold notes only when consented; what is held may be shown.
            Some(g) if !logbook_protocol::may_read(&g, scope, true) => Err(Error::forbidden(
                format!("a {} device may not see that", g.role.as_str()),
            )),
            _ => Ok(()),
        }
    }

    fn require_coordinator(&self) -> Result<()> {
        match self.grant()? {
            Some(g) if g.role != Role::Coordinator => Err(Error::forbidden(format!(
                "a {} device may not do that; ask a coordinator",
                g.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    /// Who is acting, for audit trails and note authorship: the person this device is
    /// bound to if any, else the device's name.
    fn actor_label(&self) -> Result<String> {
        let g = self.grant()?;
        let name = self.lock().device.name.clone();
        Ok(match g.and_then(|g| g.person) {
            Some(p) => p,
            None => name,
        })
    }

    // ---------- coop ----------

    pub fn is_initialised(&self) -> Result<bool> {
        self.read(|c| {
            Ok(db::get_meta(c, "coop_name")?.is_some() || db::get_meta(c, "grant")?.is_some())
        })
    }

    /// Start a new coop on this device.
    pub fn init(&self, coop_name: &str, timezone: &str) -> Result<()> {
        let name = coop_name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("a coop name is 1-200 characters"));
        }
        if jiff::tz::TimeZone::get(timezone).is_err() {
            return Err(Error::invalid(
                "unknown time zone: use an IANA name such as Europe/London",
            ));
        }
        if self.is_initialised()? {
            return Err(Error::conflict("this logbook is already initialised"));
        }
        let (name, tz) = (name.to_string(), timezone.to_string());
        self.write(ChangeOrigin::Local, |w| {
            w.change(docs::DIRECTORY_DOC, |t| {
                autosurgeon::reconcile_prop(t, ROOT, "coop_name", name.as_str())?;
                autosurgeon::reconcile_prop(t, ROOT, "timezone", tz.as_str())?;
                let courses = docs::container(t, "courses")?;
                for (label, months) in [
                    ("Food hygiene", Some(36)),
                    ("First aid", Some(36)),
                    ("Induction", None),
                ] {
                    autosurgeon::reconcile_prop(
                        t,
                        &courses,
                        new_id("c").as_str(),
                        docs::CourseDoc {
                            name: label.into(),
                            review_months: months,
                        },
                    )?;
                }
                Ok(())
            })
        })
    }

    pub fn coop(&self) -> Result<CoopInfo> {
        self.read(|c| {
            let name = db::get_meta(c, "coop_name")?.ok_or(Error::NotInitialised)?;
            Ok(CoopInfo {
                name,
                timezone: db::get_meta(c, "timezone")?.unwrap_or_else(|| "UTC".into()),
                settings: index::settings(c)?,
            })
        })
    }

    // ---------- directory ----------

    pub fn add_site(&self, name: &str) -> Result<String> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("a site name is 1-200 characters"));
        }
        self.require_write(&Scope::Directory)?;
        self.require_initialised()?;
        let id = new_id("s");
        self.write(ChangeOrigin::Local, |w| {
            w.change(docs::DIRECTORY_DOC, |t| {
                let sites = docs::container(t, "sites")?;
                autosurgeon::reconcile_prop(t, &sites, id.as_str(), docs::SiteDoc { name })?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    fn require_initialised(&self) -> Result<()> {
        if self.read(|c| db::get_meta(c, "coop_name"))?.is_none() {
            return Err(Error::NotInitialised);
        }
        Ok(())
    }

    pub fn sites(&self) -> Result<Vec<Site>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name FROM sites ORDER BY name, id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Site {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Add a person to the directory (and, if given, to sites' kiosk rosters).
    pub fn add_person(
        &self,
        name: &str,
        roles: &[PersonRole],
        site_ids: &[String],
        disadvantaged: bool,
    ) -> Result<String> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("a name is 1-200 characters"));
        }
        self.require_write(&Scope::Directory)?;
        self.require_initialised()?;
        let known: BTreeSet<String> = self.sites()?.into_iter().map(|s| s.id).collect();
        if let Some(bad) = site_ids.iter().find(|s| !known.contains(*s)) {
            return Err(Error::not_found(format!("unknown site {bad}")));
        }
        let roles: Vec<String> = if roles.is_empty() {
            vec![PersonRole::Worker.as_str().to_string()]
        } else {
            roles.iter().map(|r| r.as_str().to_string()).collect()
        };
        let id = new_id("p");
        self.write(ChangeOrigin::Local, |w| {
            w.change(docs::DIRECTORY_DOC, |t| {
                let people = docs::container(t, "people")?;
                autosurgeon::reconcile_prop(
                    t,
                    &people,
                    id.as_str(),
                    docs::PersonDoc {
                        name: name.clone(),
                        roles,
                        sites: site_ids.to_vec(),
                        active: true,
                    },
                )?;
                Ok(())
            })?;
            for site in site_ids {
                put_roster_entry(w, site, &id, &name, None)?;
            }
            w.change(&docs::profile_doc(&id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "disadvantaged", disadvantaged)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT p.id, p.name, p.roles, p.sites, p.active, f.disadvantaged,
                        EXISTS (SELECT 1 FROM roster r WHERE r.person = p.id AND r.pin IS NOT NULL)
                 FROM people p LEFT JOIN profiles f ON f.person = p.id ORDER BY p.name, p.id",
            )?;
            let rows = stmt.query_map([], |r| {
                let roles: String = r.get(2)?;
                let sites: String = r.get(3)?;
                Ok(Person {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    roles: roles.split(',').filter_map(|s| s.parse().ok()).collect(),
                    site_ids: sites
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    active: r.get(4)?,
                    disadvantaged: r.get(5)?,
                    has_pin: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn person(&self, person_id: &str) -> Result<Person> {
        self.people()?
            .into_iter()
            .find(|p| p.id == person_id)
            .ok_or_else(|| Error::not_found(format!("unknown person {person_id}")))
    }

    /// Set a person's 4-digit kiosk PIN (stored only as a slow salted verifier, in the
    /// rosters of the person's sites).
    pub fn set_pin(&self, person_id: &str, new_pin: &str) -> Result<()> {
        pin::validate_pin(new_pin)?;
        let person = self.person(person_id)?;
        if person.site_ids.is_empty() {
            return Err(Error::conflict(
                "this person is at no site: add them to a site first",
            ));
        }
        for s in &person.site_ids {
            self.require_write(&Scope::Site(s.clone()))?;
        }
        let verifier = pin::make_verifier(new_pin)?;
        self.write(ChangeOrigin::Local, |w| {
            for site in &person.site_ids {
                put_roster_entry(w, site, &person.id, &person.name, Some(verifier.clone()))?;
            }
            Ok(())
        })
    }

    /// Add an existing person to a site (and its kiosk roster).
    pub fn assign_site(&self, person_id: &str, site_id: &str) -> Result<()> {
        let person = self.person(person_id)?;
        if !self.sites()?.iter().any(|s| s.id == site_id) {
            return Err(Error::not_found(format!("unknown site {site_id}")));
        }
        self.require_write(&Scope::Directory)?;
        if person.site_ids.iter().any(|s| s == site_id) {
            return Ok(());
        }
        let pin = self.read(|c| {
            Ok(c.query_row(
                "SELECT pin FROM roster WHERE person = ?1 AND pin IS NOT NULL LIMIT 1",
                [person_id],
                |r| r.get::<_, String>(0),
            )
            .optional()?)
        })?;
        self.write(ChangeOrigin::Local, |w| {
            w.change(docs::DIRECTORY_DOC, |t| {
                let people = docs::container(t, "people")?;
                let mut sites = person.site_ids.clone();
                sites.push(site_id.to_string());
                autosurgeon::reconcile_prop(
                    t,
                    &people,
                    person_id,
                    docs::PersonDoc {
                        name: person.name.clone(),
                        roles: person
                            .roles
                            .iter()
                            .map(|r| r.as_str().to_string())
                            .collect(),
                        sites,
                        active: person.active,
                    },
                )?;
                Ok(())
            })?;
            put_roster_entry(w, site_id, person_id, &person.name, pin)
        })
    }

    /// Record whether a person counts as disadvantaged (Law 381/1991 head count).
    pub fn set_disadvantaged(&self, person_id: &str, disadvantaged: bool) -> Result<()> {
        self.person(person_id)?;
        self.require_write(&Scope::Records(person_id.to_string()))?;
        self.write(ChangeOrigin::Local, |w| {
            w.change(&docs::profile_doc(person_id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "disadvantaged", disadvantaged)?;
                Ok(())
            })
        })
    }

    /// The people a kiosk may show: its site's roster (names only).
    pub fn roster(&self, site_id: &str) -> Result<Vec<Site>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT person, name FROM roster WHERE site = ?1 AND active ORDER BY name",
            )?;
            let rows = stmt.query_map([site_id], |r| {
                Ok(Site {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    // ---------- punches ----------

    /// Record a punch. Refused (nothing written) if the person is unknown or the tap
    /// contradicts what this device knows of their state. Durable when it returns.
    pub fn punch(
        &self,
        person_id: &str,
        kind: PunchKind,
        at: Option<UnixSeconds>,
        hour_type: Option<HourType>,
        site_id: Option<&str>,
        source: PunchSource,
    ) -> Result<String> {
        let scope = Scope::Timesheet(person_id.to_string());
        self.require_write(&scope)?;
        let known_site = self.read(|c| {
            let in_directory: Option<String> = c
                .query_row("SELECT sites FROM people WHERE id = ?1", [person_id], |r| {
                    r.get(0)
                })
                .optional()?;
            let in_roster: Option<String> = c
                .query_row(
                    "SELECT site FROM roster WHERE person = ?1 LIMIT 1",
                    [person_id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(match (in_directory, in_roster) {
                (Some(sites), _) => {
                    Some(sites.split(',').find(|s| !s.is_empty()).map(str::to_string))
                }
                (None, Some(site)) => Some(Some(site)),
                (None, None) => None,
            })
        })?;
        let Some(default_site) = known_site else {
            return Err(Error::not_found(format!("unknown person {person_id}")));
        };
        let at = at.unwrap_or_else(now);
        if jiff::Timestamp::from_second(at).is_err() {
            return Err(Error::invalid("time out of range"));
        }
        let site = site_id.map(str::to_string).or(default_site);
        self.check_tap(person_id, kind, at)?;
        let device = self.lock().device.key.clone();
        let month = jiff::Timestamp::from_second(at)
            .map_err(|_| Error::invalid("time out of range"))?
            .strftime("%Y-%m")
            .to_string();
        let doc_id = docs::punches_doc(person_id, &month, &device);
        let id = crate::ids::new_punch_id();
        let punch = docs::PunchDoc {
            kind: kind.as_str().into(),
            at,
            device: device.clone(),
            source: source.as_str().into(),
            hour_type: hour_type.unwrap_or(HourType::Paid).as_str().into(),
            site,
        };
        self.write(ChangeOrigin::Local, |w| {
            w.change(&doc_id, |t| {
                let punches = docs::container(t, "punches")?;
                autosurgeon::reconcile_prop(t, &punches, id.as_str(), &punch)?;
                Ok(())
            })?;
            w.narrow_rederive(person_id, at, &id);
            Ok(())
        })?;
        Ok(id)
    }

    /// Where a tap on this device comes from, by its role: a kiosk, a worker's or
    /// supporter's phone, or a coordinator (also a standalone logbook).
    pub fn punch_source(&self) -> Result<PunchSource> {
        Ok(match self.grant()?.map(|g| g.role) {
            Some(Role::Kiosk) => PunchSource::Kiosk,
            Some(Role::Worker | Role::Supporter) => PunchSource::Phone,
            Some(Role::Coordinator) | None => PunchSource::Coordinator,
        })
    }

    /// Refuse a tap that this device already knows is a duplicate (PRODUCT.md: "a device
    /// also refuses such a tap when it knows the person's state").
    ///
    /// A kiosk never reads timesheets, so it knows only its own taps: it refuses a tap its
    /// own taps contradict (a second clock-in, a second clock-out) but accepts a clock-out
    /// or break of a shift it never saw begin (begun on the phone, say); the derivation
    /// settles the rest once everything is synced.
    fn check_tap(&self, person_id: &str, kind: PunchKind, at: UnixSeconds) -> Result<()> {
        let knows_all = match self.grant()? {
            Some(g) => {
                logbook_protocol::may_read(&g, &Scope::Timesheet(person_id.to_string()), true)
            }
            None => true,
        };
        self.read(|c| {
            let settings = index::settings(c)?;
            let tz = index::coop_timezone(c)?;
            // The state just before `at`: the last shift opened at or before it.
            let last: Option<Shift> = c
                .prepare_cached(&format!(
                    "SELECT {} FROM shifts WHERE person = ?1 AND origin_at <= ?2 ORDER BY origin_at DESC, id DESC LIMIT 1",
                    index::SHIFT_COLUMNS
                ))?
                .query_row(params![person_id, at], index::shift_from_row)
                .optional()?;
            let open = last.filter(|s| s.status == ShiftStatus::Open && at - s.start < settings.review_after_seconds);
            let week = derive::week_start(derive::local_date(at, &tz)).to_string();
            if index::week_reviewed(c, person_id, "lock", &week)? {
                return Err(Error::conflict("that week is locked: ask a coordinator to correct it"));
            }
            let last_tap_here: Option<(String, i64)> = if knows_all {
                None
            } else {
                c.prepare_cached("SELECT kind, at FROM punches WHERE person = ?1 AND at <= ?2 ORDER BY at DESC, id DESC LIMIT 1")?
                    .query_row(params![person_id, at], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
            };
            let just_clocked_out = last_tap_here.is_some_and(|(k, t)| {
                k == PunchKind::ClockOut.as_str() && at - t < settings.review_after_seconds
            });
            match (kind, &open) {
                (PunchKind::ClockIn, Some(_)) => Err(Error::conflict("already clocked in")),
                (PunchKind::ClockOut, None) if knows_all => Err(Error::conflict("not clocked in")),
                (PunchKind::ClockOut, None) if just_clocked_out => Err(Error::conflict("already clocked out")),
                (PunchKind::BreakStart | PunchKind::BreakEnd, None) if knows_all => {
                    Err(Error::conflict("not clocked in"))
                }
                (PunchKind::BreakStart, Some(s)) if index::break_open(c, person_id, s.start)? => {
                    Err(Error::conflict("already on a break"))
                }
                (PunchKind::BreakEnd, Some(s)) if !index::break_open(c, person_id, s.start)? => {
                    Err(Error::conflict("not on a break"))
                }
                _ => Ok(()),
            }
        })
    }

    /// A kiosk tap: check the PIN offline (with lockout), then punch.
    pub fn kiosk_punch(
        &self,
        person_id: &str,
        entered_pin: &str,
        kind: PunchKind,
        at: Option<UnixSeconds>,
        hour_type: Option<HourType>,
    ) -> Result<String> {
        self.kiosk_check_pin(person_id, entered_pin)?;
        self.punch(person_id, kind, at, hour_type, None, PunchSource::Kiosk)
    }

    /// Check a person's PIN at this kiosk. Wrong PINs count; after the configured number
    /// the person is locked out here for a while. A right PIN clears the count.
    pub fn kiosk_check_pin(&self, person_id: &str, entered_pin: &str) -> Result<()> {
        pin::validate_pin(entered_pin)?;
        let site = self.grant()?.and_then(|g| g.site);
        let (verifier, settings, lockout) = self.read(|c| {
            let verifier: Option<Option<String>> = match &site {
                Some(site) => c
                    .query_row(
                        "SELECT pin FROM roster WHERE site = ?1 AND person = ?2 AND active",
                        params![site, person_id],
                        |r| r.get(0),
                    )
                    .optional()?,
                None => c
                    .query_row(
                        "SELECT pin FROM roster WHERE person = ?1 AND pin IS NOT NULL LIMIT 1",
                        [person_id],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            let lockout: Option<(i64, Option<i64>)> = c
                .query_row(
                    "SELECT failures, locked_until FROM kiosk_lockouts WHERE person = ?1",
                    [person_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok((verifier, index::settings(c)?, lockout))
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
        let t = now();
        if let Some((_, Some(until))) = lockout
            && until > t
        {
            return Err(Error::LockedOut {
                retry_after_seconds: until - t,
            });
        }
        if pin::check(entered_pin, &verifier)? {
            self.read(|c| {
                c.execute("DELETE FROM kiosk_lockouts WHERE person = ?1", [person_id])?;
                Ok(())
            })?;
            return Ok(());
        }
        let failures = match lockout {
            // An expired lockout starts the count again.
            Some((_, Some(until))) if until <= t => 1,
            Some((f, _)) => f + 1,
            None => 1,
        };
        let locked_until = (failures >= i64::from(settings.pin_max_failures))
            .then_some(t + settings.pin_lockout_seconds);
        self.read(|c| {
            c.execute(
                "INSERT INTO kiosk_lockouts (person, failures, locked_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (person) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                params![person_id, if locked_until.is_some() { 0 } else { failures }, locked_until],
            )?;
            Ok(())
        })?;
        match locked_until {
            Some(until) => Err(Error::LockedOut {
                retry_after_seconds: until - t,
            }),
            None => Err(Error::forbidden("wrong PIN")),
        }
    }

    /// Who is on shift now (as this device knows), by name, for the kiosk screen.
    pub fn on_shift(&self) -> Result<Vec<Site>> {
        let t = now();
        self.read(|c| {
            let settings = index::settings(c)?;
            let mut stmt = c.prepare(
                "SELECT s.person, coalesce(p.name, r.name, s.person) FROM shifts s
                 LEFT JOIN people p ON p.id = s.person
                 LEFT JOIN (SELECT person, min(name) AS name FROM roster GROUP BY person) r ON r.person = s.person
                 WHERE s.status = 'open' AND s.start > ?1 ORDER BY 2",
            )?;
            let rows = stmt.query_map([t - settings.review_after_seconds], |r| Ok(Site { id: r.get(0)?, name: r.get(1)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// A person's shifts with local dates in `from..=to` (all if not given).
    pub fn shifts(
        &self,
        person_id: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<ShiftView>> {
        self.require_read(&Scope::Timesheet(person_id.to_string()))?;
        let from = from
            .map(parse_date)
            .transpose()?
            .map(|d| d.to_string())
            .unwrap_or_default();
        let to = to
            .map(parse_date)
            .transpose()?
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999-12-31".into());
        let t = now();
        self.read(|c| {
            let settings = index::settings(c)?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM shifts WHERE person = ?1 AND local_date >= ?2 AND local_date <= ?3 ORDER BY origin_at, id",
                index::SHIFT_COLUMNS
            ))?;
            let rows = stmt.query_map(params![person_id, from, to], index::shift_from_row)?;
            let mut out = Vec::new();
            for row in rows {
                let mut s = row?;
                s.status = derive::classify_open(&s, t, settings.review_after_seconds);
                out.push(s);
            }
            Ok(out)
        })
    }

    /// Punches counted as nothing (duplicates), with the reason.
    pub fn ignored_punches(&self, person_id: &str) -> Result<Vec<IgnoredPunch>> {
        self.require_read(&Scope::Timesheet(person_id.to_string()))?;
        self.read(|c| {
            let mut stmt = c.prepare("SELECT punch_id, reason FROM ignored_punches WHERE person = ?1 ORDER BY at, punch_id")?;
            let rows = stmt.query_map([person_id], |r| Ok(IgnoredPunch { punch_id: r.get(0)?, reason: r.get(1)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    // ---------- review: corrections, approvals, locks ----------

    fn shift_by_id(&self, shift_id: &str) -> Result<Shift> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {} FROM shifts WHERE id = ?1", index::SHIFT_COLUMNS),
                [shift_id],
                index::shift_from_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found(format!("unknown shift {shift_id}")))
        })
    }

    fn review_doc_for(&self, person_id: &str, at: UnixSeconds) -> Result<String> {
        let year = jiff::Timestamp::from_second(at)
            .map_err(|_| Error::invalid("time out of range"))?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .year();
        Ok(docs::review_doc(person_id, year, &self.device_key()))
    }

    fn week_locked(&self, person_id: &str, week: &str) -> Result<bool> {
        self.read(|c| index::week_reviewed(c, person_id, "lock", week))
    }

    /// A coordinator corrects a shift. The correction is an event: the shift as it was
    /// stays in the audit trail.
    pub fn correct_shift(&self, shift_id: &str, fix: ShiftCorrection) -> Result<String> {
        self.require_coordinator()?;
        let shift = self.shift_by_id(shift_id)?;
        self.require_write(&Scope::Review(shift.person_id.clone()))?;
        if fix.reason.trim().is_empty() {
            return Err(Error::invalid("a correction needs a reason"));
        }
        if let (Some(s), Some(e)) = (fix.start.or(Some(shift.start)), fix.end.or(shift.end))
            && e <= s
        {
            return Err(Error::invalid("a shift must end after it starts"));
        }
        let week = derive::week_start(
            shift
                .local_date
                .parse()
                .map_err(|_| Error::Corrupt("bad date".into()))?,
        )
        .to_string();
        if self.week_locked(&shift.person_id, &week)? {
            return Err(Error::conflict("that week is locked"));
        }
        let at = now();
        let id = new_id("r");
        let before = serde_json::to_string(&shift).map_err(json_err)?;
        let event = docs::ReviewEventDoc {
            kind: "correction".into(),
            shift_id: Some(shift_id.to_string()),
            start: fix.start,
            end: fix.end,
            hour_type: fix.hour_type.map(|h| h.as_str().to_string()),
            break_seconds: fix.break_seconds,
            void: fix.void,
            week_start: None,
            reason: fix.reason.trim().to_string(),
            before: Some(before),
            by: self.actor_label()?,
            at,
        };
        let doc_id = self.review_doc_for(&shift.person_id, at)?;
        self.write(ChangeOrigin::Local, |w| {
            w.change(&doc_id, |t| {
                let events = docs::container(t, "events")?;
                autosurgeon::reconcile_prop(t, &events, id.as_str(), &event)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    /// Approve (or lock) the week containing `date` for the given people (everyone with
    /// shifts that week if empty).
    pub fn review_week(&self, date: &str, people: &[String], lock: bool) -> Result<Vec<String>> {
        self.require_coordinator()?;
        let week = derive::week_start(parse_date(date)?);
        let week_end = week.checked_add(jiff::Span::new().days(6)).unwrap_or(week);
        let people: Vec<String> = if people.is_empty() {
            self.read(|c| {
                let mut stmt = c.prepare("SELECT DISTINCT person FROM shifts WHERE local_date >= ?1 AND local_date <= ?2 ORDER BY person")?;
                let rows = stmt.query_map(params![week.to_string(), week_end.to_string()], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })?
        } else {
            for p in people {
                self.person(p)?;
            }
            people.to_vec()
        };
        for p in &people {
            self.require_write(&Scope::Review(p.clone()))?;
        }
        let at = now();
        let by = self.actor_label()?;
        let kind = if lock { "lock" } else { "approval" };
        let mut ids = Vec::new();
        self.write(ChangeOrigin::Local, |w| {
            for p in &people {
                let id = new_id("r");
                let doc_id = docs::review_doc(p, at_year(at), &w.device.key);
                let event = docs::ReviewEventDoc {
                    kind: kind.into(),
                    week_start: Some(week.to_string()),
                    by: by.clone(),
                    at,
                    ..Default::default()
                };
                w.change(&doc_id, |t| {
                    let events = docs::container(t, "events")?;
                    autosurgeon::reconcile_prop(t, &events, id.as_str(), &event)?;
                    Ok(())
                })?;
                ids.push(id);
            }
            Ok(())
        })?;
        Ok(ids)
    }

    /// The week's review state for a person: (approved, locked).
    pub fn week_state(&self, person_id: &str, date: &str) -> Result<(bool, bool)> {
        let week = derive::week_start(parse_date(date)?).to_string();
        self.read(|c| {
            Ok((
                index::week_reviewed(c, person_id, "approval", &week)?,
                index::week_reviewed(c, person_id, "lock", &week)?,
            ))
        })
    }

    /// Every edit to a shift: who, when, what it was before, what changed.
    pub fn shift_history(&self, shift_id: &str) -> Result<Vec<AuditEntry>> {
        let shift = self.shift_by_id(shift_id)?;
        self.require_read(&Scope::Review(shift.person_id.clone()))?;
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, kind, by, at, body FROM reviews WHERE shift_id = ?1 ORDER BY at, id",
            )?;
            let rows = stmt.query_map([shift_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (event_id, kind, by, at, body) = row?;
                let mut body: serde_json::Value = serde_json::from_str(&body).map_err(json_err)?;
                let before = body["before"].as_str().map(str::to_string);
                let reason = body["reason"].as_str().unwrap_or_default().to_string();
                if let Some(o) = body.as_object_mut() {
                    o.remove("before");
                    o.remove("reason");
                }
                out.push(AuditEntry {
                    event_id,
                    kind,
                    by,
                    at,
                    reason,
                    before,
                    change: Some(body.to_string()),
                });
            }
            Ok(out)
        })
    }

    // ---------- training ----------

    pub fn courses(&self) -> Result<Vec<TrainingCourse>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, name, review_months FROM courses ORDER BY name, id")?;
            let rows = stmt.query_map([], |r| {
                Ok(TrainingCourse {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    review_months: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn add_course(&self, name: &str, review_months: Option<u32>) -> Result<String> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("a course name is 1-200 characters"));
        }
        self.require_write(&Scope::Directory)?;
        self.require_initialised()?;
        let id = new_id("c");
        self.write(ChangeOrigin::Local, |w| {
            w.change(docs::DIRECTORY_DOC, |t| {
                let courses = docs::container(t, "courses")?;
                autosurgeon::reconcile_prop(
                    t,
                    &courses,
                    id.as_str(),
                    docs::CourseDoc {
                        name,
                        review_months: review_months.map(i64::from),
                    },
                )?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    /// Record training a person did.
    pub fn add_training(&self, new: NewTraining) -> Result<String> {
        self.person(&new.person_id)?;
        self.require_write(&Scope::Records(new.person_id.clone()))?;
        let date = parse_date(&new.date)?;
        let course = match self
            .courses()?
            .into_iter()
            .find(|c| c.id == new.course || c.name.eq_ignore_ascii_case(new.course.trim()))
        {
            Some(c) => c,
            None => {
                let id = self.add_course(&new.course, None)?;
                TrainingCourse {
                    id,
                    name: new.course.trim().to_string(),
                    review_months: None,
                }
            }
        };
        let expires_on = match &new.expires_on {
            Some(e) => Some(parse_date(e)?.to_string()),
            None => course
                .review_months
                .and_then(|m| {
                    date.checked_add(jiff::Span::new().months(i64::from(m)))
                        .ok()
                })
                .map(|d| d.to_string()),
        };
        if new.minutes > 24 * 60 * 30 {
            return Err(Error::invalid(
                "training time is at most 720 hours per record",
            ));
        }
        let at = now();
        let by = self.actor_label()?;
        let id = new_id("t");
        let rec = docs::TrainingRecordDoc {
            course_id: course.id,
            course_name: course.name,
            date: date.to_string(),
            minutes: i64::from(new.minutes),
            provider: new.provider.filter(|s| !s.trim().is_empty()),
            certificate_ref: new.certificate_ref.filter(|s| !s.trim().is_empty()),
            expires_on,
            trainee_signed_at: new.trainee_signed.then_some(at),
            supervisor_signed_at: new.supervisor_signed.then_some(at),
            supervisor: new.supervisor_signed.then_some(by),
        };
        self.write(ChangeOrigin::Local, |w| {
            w.change(&docs::training_doc(&new.person_id), |t| {
                let records = docs::container(t, "records")?;
                autosurgeon::reconcile_prop(t, &records, id.as_str(), &rec)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    /// Sign off an induction checklist item (created if new) for trainee and/or supervisor.
    pub fn sign_induction(
        &self,
        person_id: &str,
        label: &str,
        trainee: bool,
        supervisor: bool,
    ) -> Result<String> {
        self.person(person_id)?;
        self.require_write(&Scope::Records(person_id.to_string()))?;
        let label = label.trim().to_string();
        if label.is_empty() || label.len() > 200 {
            return Err(Error::invalid("a checklist item is 1-200 characters"));
        }
        let existing = self
            .induction(person_id)?
            .into_iter()
            .find(|i| i.label.eq_ignore_ascii_case(&label));
        let at = now();
        let by = self.actor_label()?;
        let id = existing
            .as_ref()
            .map(|i| i.id.clone())
            .unwrap_or_else(|| new_id("i"));
        let item = docs::InductionDoc {
            label: existing.as_ref().map(|i| i.label.clone()).unwrap_or(label),
            trainee_signed_at: existing
                .as_ref()
                .and_then(|i| i.trainee_signed_at)
                .or(trainee.then_some(at)),
            supervisor_signed_at: existing
                .as_ref()
                .and_then(|i| i.supervisor_signed_at)
                .or(supervisor.then_some(at)),
            supervisor: existing
                .as_ref()
                .and_then(|i| i.supervisor.clone())
                .or(supervisor.then_some(by)),
        };
        self.write(ChangeOrigin::Local, |w| {
            w.change(&docs::training_doc(person_id), |t| {
                let induction = docs::container(t, "induction")?;
                autosurgeon::reconcile_prop(t, &induction, id.as_str(), &item)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    pub fn training(&self, person_id: &str) -> Result<Vec<TrainingRecord>> {
        self.require_read(&Scope::Records(person_id.to_string()))?;
        self.read(|c| crate::reports::training_rows(c, Some(person_id), None))
    }

    pub fn induction(&self, person_id: &str) -> Result<Vec<InductionItem>> {
        self.require_read(&Scope::Records(person_id.to_string()))?;
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, person, label, trainee_signed_at, supervisor_signed_at, supervisor FROM induction WHERE person = ?1 ORDER BY label",
            )?;
            let rows = stmt.query_map([person_id], |r| {
                Ok(InductionItem {
                    id: r.get(0)?,
                    person_id: r.get(1)?,
                    label: r.get(2)?,
                    trainee_signed_at: r.get(3)?,
                    supervisor_signed_at: r.get(4)?,
                    supervisor: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Certificates expiring (or already expired) within `days` of today.
    pub fn training_expiring(&self, days: u32) -> Result<Vec<TrainingRecord>> {
        self.require_coordinator()?;
        let today = self.today()?;
        let until = today
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .map_err(|_| Error::invalid("too many days"))?;
        self.read(|c| crate::reports::training_rows(c, None, Some(&until.to_string())))
    }

    /// Today's date in the coop's time zone.
    pub fn today(&self) -> Result<jiff::civil::Date> {
        let tz = self.read(index::coop_timezone)?;
        Ok(derive::local_date(now(), &tz))
    }

    // ---------- CPO ----------

    /// Record a CPO order. Deadline defaults by the hours (3 or 6 months).
    pub fn set_cpo(
        &self,
        person_id: &str,
        hours: u32,
        start: &str,
        deadline: Option<&str>,
    ) -> Result<String> {
        crate::cpo::validate_hours(hours)?;
        let start = parse_date(start)?;
        let deadline = match deadline {
            Some(d) => parse_date(d)?,
            None => crate::cpo::default_deadline(start, hours),
        };
        if deadline <= start {
            return Err(Error::invalid("the deadline must be after the start date"));
        }
        self.person(person_id)?;
        self.require_write(&Scope::Records(person_id.to_string()))?;
        let id = new_id("o");
        let at = now();
        self.write(ChangeOrigin::Local, |w| {
            w.change(&docs::cpo_doc(person_id, &id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "hours_ordered", i64::from(hours))?;
                autosurgeon::reconcile_prop(t, ROOT, "start_date", start.to_string())?;
                autosurgeon::reconcile_prop(t, ROOT, "deadline", deadline.to_string())?;
                autosurgeon::reconcile_prop(
                    t,
                    ROOT,
                    "other_activity_cap_minutes",
                    i64::from(crate::cpo::other_activity_cap_minutes(hours)),
                )?;
                autosurgeon::reconcile_prop(t, ROOT, "created_at", at)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    pub fn cpo_orders(&self, person_id: &str) -> Result<Vec<CpoOrder>> {
        self.require_read(&Scope::Records(person_id.to_string()))?;
        self.read(|c| crate::reports::cpo_orders(c, person_id))
    }

    /// Progress on each of a person's orders, as of today.
    pub fn cpo_progress(&self, person_id: &str) -> Result<Vec<crate::cpo::CpoProgress>> {
        self.require_read(&Scope::Records(person_id.to_string()))?;
        let today = self.today()?;
        self.read(|c| crate::reports::cpo_progress(c, person_id, today))
    }

    /// Erase a person's CPO order (e.g. when the conviction is spent): history included.
    pub fn purge_cpo(&self, person_id: &str, order_id: &str) -> Result<()> {
        let doc_id = docs::cpo_doc(person_id, order_id);
        self.erase_doc(&doc_id)
    }

    // ---------- notes ----------

    /// Start a peer-support note thread about a person. Returns the thread id.
    pub fn add_note(&self, about: &str, text: &str) -> Result<String> {
        let text = validate_note(text)?;
        self.require_known_person(about)?;
        self.require_write(&Scope::Notes(about.to_string()))?;
        let thread = new_id("n");
        self.write_note_entry(&docs::notes_doc(about, &thread), text, true)?;
        Ok(thread)
    }

    /// Add an entry to an existing thread.
    pub fn reply_note(&self, thread_id: &str, text: &str) -> Result<String> {
        let text = validate_note(text)?;
        let doc_id = self.note_doc(thread_id)?;
        self.require_write(
            &Scope::of_doc(&doc_id).map_err(|_| Error::Corrupt("bad note id".into()))?,
        )?;
        self.write_note_entry(&doc_id, text, false)
    }

    /// Append an entry (by whoever this device acts for) to a note thread; a new thread
    /// also gets its creation time. Returns the entry id.
    fn write_note_entry(&self, doc_id: &str, text: String, new_thread: bool) -> Result<String> {
        let entry = new_id("e");
        let at = now();
        let author = self.actor_label()?;
        self.write(ChangeOrigin::Local, |w| {
            w.change(doc_id, |t| {
                if new_thread {
                    autosurgeon::reconcile_prop(t, ROOT, "created_at", at)?;
                }
                let entries = docs::container(t, "entries")?;
                autosurgeon::reconcile_prop(
                    t,
                    &entries,
                    entry.as_str(),
                    docs::NoteEntryDoc {
                        author,
                        text,
                        created_at: at,
                        edited_at: None,
                    },
                )?;
                Ok(())
            })
        })?;
        Ok(entry)
    }

    fn require_known_person(&self, person_id: &str) -> Result<()> {
        let known = self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM people WHERE id = ?1)",
                [person_id],
                |r| r.get::<_, bool>(0),
            )?)
        })?;
        // A supporter's or worker's device knows people from the directory too.
        if known {
            Ok(())
        } else {
            Err(Error::not_found(format!("unknown person {person_id}")))
        }
    }

    fn note_doc(&self, thread_id: &str) -> Result<String> {
        self.read(|c| {
            c.query_row(
                "SELECT doc FROM note_threads WHERE id = ?1",
                [thread_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::not_found(format!("unknown note thread {thread_id}")))
        })
    }

    /// The note threads about a person that this device holds, with their text.
    pub fn notes(&self, about: &str) -> Result<Vec<NoteThread>> {
        self.require_read(&Scope::Notes(about.to_string()))?;
        let doc_ids: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, doc FROM note_threads WHERE person = ?1 ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([about], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let mut out = Vec::new();
        let mut g = self.lock();
        let Inner { conn, cache, .. } = &mut *g;
        for (thread, doc_id) in doc_ids {
            let (last, doc) = load_doc(conn, cache, &doc_id)?;
            let d: docs::NotesDoc = autosurgeon::hydrate(&doc)?;
            put_back(cache, doc_id, (last, doc));
            let mut entries: Vec<NoteEntry> = d
                .entries
                .into_iter()
                .map(|(id, e)| NoteEntry {
                    id,
                    author: e.author,
                    text: e.text,
                    created_at: e.created_at,
                    edited_at: e.edited_at,
                })
                .collect();
            entries.sort_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            out.push(NoteThread {
                id: thread,
                person_id: about.to_string(),
                created_at: d.created_at.unwrap_or(0),
                entries,
            });
        }
        Ok(out)
    }

    /// Erase a note thread: its document, history and cached rows, here now and, through
    /// the relay, on every other device.
    pub fn delete_note_thread(&self, thread_id: &str) -> Result<()> {
        let doc_id = self.note_doc(thread_id)?;
        self.erase_doc(&doc_id)
    }

    pub(crate) fn erase_doc(&self, doc_id: &str) -> Result<()> {
        let scope = Scope::of_doc(doc_id).map_err(|_| Error::invalid("invalid document id"))?;
        if let Some(g) = self.grant()?
            && !logbook_protocol::may_delete(&g, &scope)
        {
            return Err(Error::forbidden(format!(
                "a {} device may not erase that",
                g.role.as_str()
            )));
        }
        let exists = self.read(|c| Ok(db::last_chunk_id(c, doc_id)? > 0))?;
        if !exists {
            return Err(Error::not_found("nothing to erase"));
        }
        let joined = self.grant()?.is_some();
        self.write(ChangeOrigin::Local, |w| {
            w.erase(doc_id)?;
            if joined {
                w.tx.execute(
                    "INSERT OR IGNORE INTO pending_deletes (doc) VALUES (?1)",
                    [doc_id],
                )?;
            }
            Ok(())
        })?;
        self.scrub_wal()
    }

    /// After an erasure, move the WAL into the (secure-deleted) database file and empty
    /// it, so the erased bytes do not linger in old WAL frames.
    pub(crate) fn scrub_wal(&self) -> Result<()> {
        self.read(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }

    /// Record locally whether a person consents to coordinators reading their notes
    /// (the relay's copy is what enforces it; see `Logbook::set_consent` in sync).
    pub(crate) fn store_consent(&self, person_id: &str, consent: bool) -> Result<()> {
        self.read(|c| {
            db::set_meta(
                c,
                &format!("consent:{person_id}"),
                if consent { "yes" } else { "no" },
            )
        })
    }

    pub fn consent(&self, person_id: &str) -> Result<Option<bool>> {
        self.read(|c| Ok(db::get_meta(c, &format!("consent:{person_id}"))?.map(|v| v == "yes")))
    }

    // ---------- maintenance ----------

    /// Throw away every cached table and derive it again from the documents.
    pub fn rebuild(&self) -> Result<RebuildSummary> {
        let started = std::time::Instant::now();
        let doc_ids = self.read(db::all_docs)?;
        let count = doc_ids.len();
        // The cache holds no note text (erasure is what secure_delete is for), so
        // overwriting its freed pages during a rebuild would be wasted writes.
        self.read(|c| Ok(c.pragma_update(None, "secure_delete", false)?))?;
        let rebuilt = self.write(ChangeOrigin::Local, |w| {
            index::clear_cache(&w.tx)?;
            // The directory first: it carries the time zone the derivation needs.
            let mut ordered = doc_ids.clone();
            ordered.sort_by_key(|d| d != docs::DIRECTORY_DOC);
            let mut people = BTreeSet::new();
            for doc_id in &ordered {
                let (chunks, _) = db::doc_chunks(&w.tx, doc_id)?;
                let doc = docs::load(DocKind::of(doc_id)?, &chunks)?;
                if let Some(p) = index::refresh_doc(&w.tx, doc_id, &doc)? {
                    people.insert(p);
                }
            }
            for p in people {
                index::rederive_person(&w.tx, &p, None)?;
            }
            w.scopes.insert("directory".into());
            Ok(())
        });
        self.read(|c| Ok(c.pragma_update(None, "secure_delete", true)?))?;
        rebuilt?;
        Ok(RebuildSummary {
            documents: count as u64,
            millis: started.elapsed().as_millis() as u64,
        })
    }

    /// Every stored chunk with its document id: what a peer needs to catch up without a
    /// relay (tests, backups, tools).
    pub fn export_chunks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT doc, data FROM chunks ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Merge chunks exported by a peer. Returns how many added something new here.
    pub fn merge_chunks(&self, chunks: &[(String, Vec<u8>)]) -> Result<u32> {
        let mut by_doc: std::collections::BTreeMap<&str, Vec<Vec<u8>>> =
            std::collections::BTreeMap::new();
        for (doc, data) in chunks {
            by_doc.entry(doc.as_str()).or_default().push(data.clone());
        }
        self.write(ChangeOrigin::Sync, |w| {
            let mut added = 0;
            for (doc, blobs) in by_doc {
                added += w.merge_remote(doc, &blobs)? as u32;
            }
            Ok(added)
        })
    }

    /// Bulk import of historical punches (e.g. from paper timesheets or another system):
    /// one change per person and month, one transaction. Taps are not checked against
    /// the person's state: the derivation marks duplicates as it always does.
    pub fn import_punches(&self, punches: &[Punch]) -> Result<u64> {
        self.require_coordinator()?;
        let device = self.device_key();
        let mut by_doc: std::collections::BTreeMap<String, Vec<&Punch>> =
            std::collections::BTreeMap::new();
        for p in punches {
            let scope = Scope::Timesheet(p.person_id.clone());
            if logbook_protocol::validate_entity_id(&p.person_id).is_err() {
                return Err(Error::invalid("invalid person id"));
            }
            self.require_write(&scope)?;
            let month = jiff::Timestamp::from_second(p.at)
                .map_err(|_| Error::invalid("time out of range"))?
                .strftime("%Y-%m")
                .to_string();
            by_doc
                .entry(docs::punches_doc(&p.person_id, &month, &device))
                .or_default()
                .push(p);
        }
        self.write(ChangeOrigin::Local, |w| {
            for (doc_id, ps) in &by_doc {
                w.change(doc_id, |t| {
                    let container = docs::container(t, "punches")?;
                    for p in ps {
                        autosurgeon::reconcile_prop(
                            t,
                            &container,
                            p.id.as_str(),
                            docs::PunchDoc {
                                kind: p.kind.as_str().into(),
                                at: p.at,
                                device: p.device.clone(),
                                source: p.source.as_str().into(),
                                hour_type: p.hour_type.as_str().into(),
                                site: p.site_id.clone(),
                            },
                        )?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(punches.len() as u64)
    }

    /// Run SQLite's own integrity check (slow on big stores: on demand only).
    pub fn check_integrity(&self) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))? == "ok")
        })
    }

    /// Subscribe to change notifications. Dropping the handle stops them.
    pub fn subscribe(
        &self,
        observer: Arc<dyn crate::observer::LogbookObserver>,
    ) -> crate::observer::Subscription {
        self.observers.subscribe(observer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RebuildSummary {
    pub documents: u64,
    pub millis: u64,
}

fn at_year(at: UnixSeconds) -> i16 {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year())
        .unwrap_or(1970)
}

fn validate_note(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 20_000 {
        return Err(Error::invalid("a note is 1-20000 characters"));
    }
    Ok(text.to_string())
}

fn put_roster_entry(
    w: &mut Writer<'_>,
    site: &str,
    person: &str,
    name: &str,
    pin: Option<String>,
) -> Result<()> {
    w.change(&docs::roster_doc(site), |t| {
        let members = docs::container(t, "members")?;
        autosurgeon::reconcile_prop(
            t,
            &members,
            person,
            docs::RosterEntryDoc {
                name: name.to_string(),
                pin,
                active: true,
            },
        )?;
        Ok(())
    })
}
