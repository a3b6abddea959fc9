//! The `meta` table: this device's identity, its relay membership and cursor, and the
//! coop facts the directory sets (name, time zone, settings), as typed accessors.

use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::model::Settings;

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn delete_meta(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

/// Mark `name` under `prefix` (a set kept in `meta`, one row per member: documents due
/// for compaction, people whose shifts are due to be derived).
pub fn mark(conn: &Connection, prefix: &str, name: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, '')")?
        .execute([format!("{prefix}{name}")])?;
    Ok(())
}

/// Up to `limit` names marked under `prefix` (which ends in ':'), in order.
pub fn marked(conn: &Connection, prefix: &str, limit: usize) -> Result<Vec<String>> {
    // Every key with the prefix sorts at or after it and before the prefix with its
    // last character, ':', raised to ';': a range scan of the primary key.
    debug_assert!(prefix.ends_with(':'));
    let upper = format!("{};", prefix.trim_end_matches(':'));
    let mut stmt = conn.prepare_cached(
        "SELECT key FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![prefix, upper, limit as i64], |r| {
        r.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for key in rows {
        if let Some(name) = key?.strip_prefix(prefix) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

pub fn unmark(conn: &Connection, prefix: &str, name: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM meta WHERE key = ?1")?
        .execute([format!("{prefix}{name}")])?;
    Ok(())
}

/// The coop's time zone (UTC until the directory names one).
pub fn coop_timezone(conn: &Connection) -> Result<TimeZone> {
    let name = get_meta(conn, "timezone")?.unwrap_or_else(|| "UTC".into());
    TimeZone::get(&name).map_err(|_| Error::Corrupt("unknown time zone in the directory".into()))
}

/// The coop's settings (the defaults until the directory arrives). Stored settings that
/// do not parse are an error, not the defaults: they decide lockouts and payroll.
pub fn settings(conn: &Connection) -> Result<Settings> {
    match get_meta(conn, "settings")? {
        None => Ok(Settings::default()),
        Some(s) => {
            serde_json::from_str(&s).map_err(|_| Error::Corrupt("unreadable settings".into()))
        }
    }
}
