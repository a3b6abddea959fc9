//! Community Payback Order rules (Scotland, docs/DOMAIN.md): 20–300 hours; up to 100 hours
//! complete within 3 months, 101–300 within 6, unless the court sets otherwise; "other
//! activity" counts for at most 30 % of the hours ordered or 30 hours, whichever is less.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const MIN_HOURS: u32 = 20;
pub const MAX_HOURS: u32 = 300;

pub fn validate_hours(hours: u32) -> Result<()> {
    if (MIN_HOURS..=MAX_HOURS).contains(&hours) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "CPO hours must be between {MIN_HOURS} and {MAX_HOURS}"
        )))
    }
}

/// The default deadline: 3 months from the start for up to 100 hours, else 6.
pub fn default_deadline(start: Date, hours: u32) -> Date {
    let months = if hours <= 100 { 3 } else { 6 };
    start
        .checked_add(jiff::Span::new().months(months))
        .unwrap_or(start)
}

/// Most "other activity" minutes that count: min(30 % of hours, 30 hours).
pub fn other_activity_cap_minutes(hours: u32) -> u32 {
    (hours * 60 * 30 / 100).min(30 * 60)
}

/// Progress on one order, as shown to the person, the coordinator and the unpaid work
/// officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CpoProgress {
    pub order_id: String,
    pub person_id: String,
    pub hours_ordered: u32,
    pub start_date: String,
    pub deadline: String,
    pub unpaid_work_minutes: u32,
    /// Other activity done, before the cap.
    pub other_activity_minutes: u32,
    /// Other activity that counts (capped).
    pub other_activity_counted_minutes: u32,
    pub other_activity_cap_minutes: u32,
    pub done_minutes: u32,
    pub left_minutes: u32,
    /// Negative once the deadline has passed.
    pub days_to_deadline: i32,
    pub complete: bool,
    /// Done at least in proportion to the time elapsed (or complete).
    pub on_track: bool,
}

/// Work out progress from the minutes of each kind done since the order started.
pub fn progress(
    order: &crate::model::CpoOrder,
    unpaid_seconds: i64,
    other_seconds: i64,
    today: Date,
) -> Result<CpoProgress> {
    let start: Date = order
        .start_date
        .parse()
        .map_err(|_| Error::Corrupt("bad CPO start date".into()))?;
    let deadline: Date = order
        .deadline
        .parse()
        .map_err(|_| Error::Corrupt("bad CPO deadline".into()))?;
    let ordered_min = order.hours_ordered * 60;
    let unpaid = (unpaid_seconds.max(0) / 60) as u32;
    let other = (other_seconds.max(0) / 60) as u32;
    let other_counted = other.min(order.other_activity_cap_minutes);
    let done = unpaid + other_counted;
    let left = ordered_min.saturating_sub(done);
    let days_to_deadline = (deadline - today).get_days();
    let total_days = (deadline - start).get_days().max(1);
    let elapsed = (today - start).get_days().clamp(0, total_days);
    let complete = left == 0;
    // Linear pace: by day d of D, d/D of the hours should be done.
    let due = u64::from(ordered_min) * elapsed as u64 / total_days as u64;
    Ok(CpoProgress {
        order_id: order.id.clone(),
        person_id: order.person_id.clone(),
        hours_ordered: order.hours_ordered,
        start_date: order.start_date.clone(),
        deadline: order.deadline.clone(),
        unpaid_work_minutes: unpaid,
        other_activity_minutes: other,
        other_activity_counted_minutes: other_counted,
        other_activity_cap_minutes: order.other_activity_cap_minutes,
        done_minutes: done,
        left_minutes: left,
        days_to_deadline,
        complete,
        on_track: complete || u64::from(done) >= due,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn hours_outside_20_to_300_are_refused() {
        assert!(validate_hours(0).is_err());
        assert!(validate_hours(19).is_err());
        assert!(validate_hours(301).is_err());
        assert!(validate_hours(20).is_ok());
        assert!(validate_hours(300).is_ok());
    }

    #[test]
    fn deadlines_are_three_months_up_to_100_hours_else_six() {
        assert_eq!(default_deadline(date(2026, 1, 15), 100), date(2026, 4, 15));
        assert_eq!(default_deadline(date(2026, 1, 15), 101), date(2026, 7, 15));
    }

    #[test]
    fn other_activity_cap_is_30_percent_or_30_hours_whichever_is_less() {
        assert_eq!(other_activity_cap_minutes(60), 18 * 60);
        assert_eq!(other_activity_cap_minutes(100), 30 * 60);
        assert_eq!(other_activity_cap_minutes(300), 30 * 60);
    }

    #[test]
    fn other_activity_beyond_the_cap_does_not_count() {
        let order = crate::model::CpoOrder {
            id: "o".into(),
            person_id: "p".into(),
            hours_ordered: 60,
            start_date: "2026-01-01".into(),
            deadline: "2026-04-01".into(),
            other_activity_cap_minutes: other_activity_cap_minutes(60),
            created_at: 0,
        };
        let p = progress(&order, 20 * 3600, 25 * 3600, date(2026, 2, 15)).unwrap();
        assert_eq!(p.other_activity_counted_minutes, 18 * 60);
        assert_eq!(p.done_minutes, 38 * 60);
        assert_eq!(p.left_minutes, 22 * 60);
        assert_eq!(p.days_to_deadline, 45);
        assert!(p.on_track);
    }
}
