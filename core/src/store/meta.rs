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
