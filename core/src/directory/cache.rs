//! The directory cache: people, sites and courses from the directory document (and the
//! coop facts it sets in `meta`), kiosk rosters, and people's profiles.

use automerge::Automerge;
use rusqlite::{Connection, OptionalExtension, params};

use super::doc::{DirectoryDoc, ProfileDoc, RosterDoc};
use crate::error::{Error, Result};
use crate::model::{Person, Settings, Site};
use crate::store::documents::DIRECTORY_DOC;
use crate::store::{chunks, meta};

/// Replace the people, sites and courses, and the coop facts (name, time zone, settings).
pub(crate) fn project_directory(conn: &Connection, doc: &Automerge) -> Result<()> {
    let dir: DirectoryDoc = autosurgeon::hydrate(doc)?;
    conn.execute("DELETE FROM people", [])?;
    conn.execute("DELETE FROM sites", [])?;
    conn.execute("DELETE FROM courses", [])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO people (id, name, roles, sites, active, payroll_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (id, p) in &dir.people {
        ins.execute(params![
            id,
            p.name,
            p.roles.join(","),
            p.sites.join(","),
            p.active,
            p.payroll_number
        ])?;
    }
    let mut ins = conn.prepare_cached("INSERT INTO sites (id, name) VALUES (?1, ?2)")?;
    for (id, s) in &dir.sites {
        ins.execute(params![id, s.name])?;
    }
    let mut ins =
        conn.prepare_cached("INSERT INTO courses (id, name, review_months) VALUES (?1, ?2, ?3)")?;
    for (id, c) in &dir.courses {
        ins.execute(params![id, c.name, c.review_months])?;
    }
    if let Some(name) = &dir.coop_name {
        meta::set_meta(conn, "coop_name", name)?;
    }
    if let Some(tz) = &dir.timezone {
        meta::set_meta(conn, "timezone", tz)?;
    }
    let defaults = Settings::default();
    let settings = Settings {
        // A value that does not parse (a newer device's) keeps the default.
        pay_period: dir
            .pay_period
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(defaults.pay_period),
        pay_period_start: dir
            .pay_period_start
            .clone()
            .filter(|d| d.parse::<jiff::civil::Date>().is_ok())
            .unwrap_or(defaults.pay_period_start.clone()),
        cpo_retention_days: dir
            .cpo_retention_days
            .map_or(defaults.cpo_retention_days, |v| v.clamp(0, 36_500) as u32),
        notes_retention_days: dir
            .notes_retention_days
            .map_or(defaults.notes_retention_days, |v| v.clamp(0, 36_500) as u32),
        review_after_seconds: dir.review_after_seconds.unwrap_or(16 * 3600),
        pin_max_failures: dir.pin_max_failures.map_or(5, |v| v.clamp(1, 100) as u32),
        pin_lockout_seconds: dir.pin_lockout_seconds.unwrap_or(15 * 60),
        disadvantaged_min_percent: dir
            .disadvantaged_min_percent
            .map_or(30, |v| v.clamp(0, 100) as u32),
    };
    let json = serde_json::to_string(&settings).map_err(|e| Error::Corrupt(e.to_string()))?;
    meta::set_meta(conn, "settings", &json)
}

/// Replace one site's kiosk roster. A device that does not hold the directory (a kiosk)
/// takes the coop's name, time zone and settings from the roster's copy of them.
pub(crate) fn project_roster(conn: &Connection, site: &str, doc: &Automerge) -> Result<()> {
    let roster: RosterDoc = autosurgeon::hydrate(doc)?;
    if chunks::last_chunk_id(conn, DIRECTORY_DOC)? == 0 {
        if let Some(name) = &roster.coop_name {
            meta::set_meta(conn, "coop_name", name)?;
        }
        if let Some(tz) = &roster.timezone {
            meta::set_meta(conn, "timezone", tz)?;
        }
        let defaults = Settings::default();
        let settings = Settings {
            review_after_seconds: roster
                .review_after_seconds
                .unwrap_or(defaults.review_after_seconds),
            pin_max_failures: roster
                .pin_max_failures
                .map_or(defaults.pin_max_failures, |v| v.clamp(1, 100) as u32),
            pin_lockout_seconds: roster
                .pin_lockout_seconds
                .unwrap_or(defaults.pin_lockout_seconds),
            ..defaults
        };
        let json = serde_json::to_string(&settings).map_err(|e| Error::Corrupt(e.to_string()))?;
        meta::set_meta(conn, "settings", &json)?;
    }
    conn.execute("DELETE FROM roster WHERE site = ?1", [site])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO roster (site, person, name, pin, active) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (person, m) in &roster.members {
        ins.execute(params![site, person, m.name, m.pin, m.active])?;
    }
    Ok(())
}

/// Replace one person's profile row.
pub(crate) fn project_profile(conn: &Connection, person: &str, doc: &Automerge) -> Result<()> {
    let d: ProfileDoc = autosurgeon::hydrate(doc)?;
    conn.execute("DELETE FROM profiles WHERE person = ?1", [person])?;
    conn.execute("DELETE FROM payroll_numbers WHERE person = ?1", [person])?;
    if let Some(flag) = d.disadvantaged {
        conn.execute(
            "INSERT INTO profiles (person, disadvantaged) VALUES (?1, ?2)",
            params![person, flag],
        )?;
    }
    if let Some(number) = d.payroll_number {
        conn.execute(
            "INSERT INTO payroll_numbers (person, number) VALUES (?1, ?2)",
            params![person, number],
        )?;
    }
    Ok(())
}

pub(crate) fn sites(conn: &Connection) -> Result<Vec<Site>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM sites ORDER BY name, id")?;
    let rows = stmt.query_map([], |r| {
        Ok(Site {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn people(conn: &Connection) -> Result<Vec<Person>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.name, p.roles, p.sites, p.active, f.disadvantaged,
                EXISTS (SELECT 1 FROM roster r WHERE r.person = p.id AND r.pin IS NOT NULL)
         FROM people p LEFT JOIN profiles f ON f.person = p.id ORDER BY p.name, p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, Option<bool>>(5)?,
            r.get::<_, bool>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, roles, sites, active, disadvantaged, has_pin) = row?;
        out.push(Person {
            id,
            name,
            roles: roles
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<_>>()?,
            site_ids: sites
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            active,
            disadvantaged,
            has_pin,
        });
    }
    Ok(out)
}

/// The site a person's taps default to: their first site in the directory, else a
/// roster's (a kiosk holds rosters only). `None` if the person is unknown here.
pub(crate) fn default_site(conn: &Connection, person: &str) -> Result<Option<Option<String>>> {
    let in_directory: Option<String> = conn
        .prepare_cached("SELECT sites FROM people WHERE id = ?1")?
        .query_row([person], |r| r.get(0))
        .optional()?;
    let in_roster: Option<String> = conn
        .prepare_cached("SELECT site FROM roster WHERE person = ?1 LIMIT 1")?
        .query_row([person], |r| r.get(0))
        .optional()?;
    Ok(match (in_directory, in_roster) {
        (Some(sites), _) => Some(sites.split(',').find(|s| !s.is_empty()).map(str::to_string)),
        (None, Some(site)) => Some(Some(site)),
        (None, None) => None,
    })
}

/// A person's payroll number, if set (`None` also for an unknown person): the profile's,
/// else one a directory from before schema 5 still carries.
pub(crate) fn payroll_number(conn: &Connection, person: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce((SELECT number FROM payroll_numbers WHERE person = ?1),
                             (SELECT payroll_number FROM people WHERE id = ?1))",
        )?
        .query_row([person], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// People whose number still sits in the directory (from before schema 5).
pub(crate) fn legacy_payroll_numbers(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, payroll_number FROM people WHERE payroll_number IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A PIN verifier this person already has at some site (to copy to a new site).
pub(crate) fn any_pin(conn: &Connection, person: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT pin FROM roster WHERE person = ?1 AND pin IS NOT NULL LIMIT 1",
            [person],
            |r| r.get(0),
        )
        .optional()?)
}
