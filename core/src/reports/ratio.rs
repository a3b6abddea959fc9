//! The head-count ratio of disadvantaged workers (Italy, Law 381/1991 art. 4: at least
//! 30 % of a type-B cooperative's workers, counted per head as an annual average).

use jiff::civil::Date;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::Result;

/// The head-count ratio of disadvantaged workers over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RatioReport {
    pub from: String,
    pub to: String,
    /// Months counted (each month's head count is averaged, per Law 381/1991 art. 4).
    pub months: u32,
    pub average_workers: f64,
    pub average_disadvantaged: f64,
    pub percent: f64,
    pub minimum_percent: u32,
    pub meets_minimum: bool,
}

/// Average monthly head count of active workers and of those flagged disadvantaged,
/// over the months overlapping `from..=to`. A worker counts in a month if they are in
/// the directory as an active worker and worked (a counted shift) in that month.
pub fn ratio(conn: &Connection, from: Date, to: Date, minimum_percent: u32) -> Result<RatioReport> {
    let mut month = from.first_of_month();
    let mut months = 0u32;
    let (mut workers, mut disadvantaged) = (0u64, 0u64);
    while month <= to {
        let end = month.last_of_month();
        let (w, d) = month_heads(conn, month, end, false)?;
        workers += w;
        disadvantaged += d;
        months += 1;
        month = match end.tomorrow() {
            Ok(m) => m,
            Err(_) => break,
        };
    }
    let avg = |n: u64| {
        if months == 0 {
            0.0
        } else {
            n as f64 / f64::from(months)
        }
    };
    let percent = if workers == 0 {
        0.0
    } else {
        disadvantaged as f64 * 100.0 / workers as f64
    };
    Ok(RatioReport {
        from: from.to_string(),
        to: to.to_string(),
        months,
        average_workers: avg(workers),
        average_disadvantaged: avg(disadvantaged),
        percent,
        minimum_percent,
        meets_minimum: workers > 0 && percent >= f64::from(minimum_percent),
    })
}

/// The heads of one month, `(workers, disadvantaged)`: active workers in the directory
/// with a counted shift on a local date in `first..=last` (of paid work only when
/// `paid_only`, as the head-count return counts employment), and of those the ones whose
/// profile flags them disadvantaged. One person is one head however much they worked.
pub(crate) fn month_heads(
    conn: &Connection,
    first: Date,
    last: Date,
    paid_only: bool,
) -> Result<(u64, u64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(DISTINCT s.person), count(DISTINCT CASE WHEN f.disadvantaged THEN s.person END)
         FROM shifts s JOIN people p ON p.id = s.person LEFT JOIN profiles f ON f.person = s.person
         WHERE s.local_date >= ?1 AND s.local_date <= ?2 AND s.counted_seconds > 0
           AND (?3 = 0 OR s.hour_type = 'paid')
           AND p.active AND (',' || p.roles || ',') LIKE '%,worker,%'",
    )?;
    let (w, d): (i64, i64) = stmt.query_row(
        params![first.to_string(), last.to_string(), paid_only],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((w.max(0) as u64, d.max(0) as u64))
}
