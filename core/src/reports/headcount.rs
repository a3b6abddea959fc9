//! The Italian head-count return (Law 381/1991 art. 4): a type-B social cooperative's
//! disadvantaged workers must be at least 30 % (a setting) of its workers, counted per
//! head as an annual average. The return shows each month's heads and the year's
//! average, and warns when the average share falls under the minimum.
//!
//! Per head in a month (docs/REPORTS.md): a person counts once in a month if they are an
//! active worker in the directory and did paid work in it (a counted shift of hour type
//! `paid` on a local date of the month). Article 4 counts the cooperative's workers
//! (lavoratori): volunteers and people doing CPO unpaid work are not employed, so they
//! are not heads. Disadvantaged heads are those whose profile carries the flag. The
//! monthly figure is the same one `ratio` uses ([`super::ratio::month_heads`]), with
//! paid work only.
//!
//! The year's averages are the sums of the monthly heads over the months counted: all
//! twelve for a past year, January to the current month for the current year (the
//! return so far). The share is average disadvantaged / average workers.

use jiff::civil::Date;
use serde::Serialize;

use super::Reports;
use super::cpo::csv_string;
use super::ratio::month_heads;
use crate::error::{Error, Result};
use crate::store::meta;

/// One month of the return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HeadcountMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub workers: u64,
    pub disadvantaged: u64,
}

/// The head-count return for one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HeadcountReturn {
    pub coop_name: String,
    pub year: i32,
    /// The day the return was made (coop time zone), `YYYY-MM-DD`.
    pub as_of: String,
    pub months: Vec<HeadcountMonth>,
    pub average_workers: f64,
    pub average_disadvantaged: f64,
    /// average disadvantaged × 100 / average workers (0 with no workers).
    pub percent: f64,
    pub minimum_percent: u32,
    pub meets_minimum: bool,
    /// Set when the year's share is under the minimum (or nobody worked).
    pub warning: Option<String>,
}

/// The CSV columns of the head-count return (`docs/REPORTS.md`).
pub const HEADCOUNT_CSV_HEADER: &str =
    "row,period,workers,disadvantaged,percent,minimum_percent,meets_minimum";

impl Reports<'_> {
    /// The head-count return for `year`. Coordinators only; a year that has not started
    /// is refused.
    pub fn headcount(&self, year: i32) -> Result<HeadcountReturn> {
        self.lb.access().require_reports()?;
        let today = self.lb.directory().today()?;
        if year < 1900 || year > i32::from(today.year()) {
            return Err(Error::invalid(
                "the year must be this year or an earlier one",
            ));
        }
        let coop_name = self.lb.directory().coop()?.name;
        let last_month = if year == i32::from(today.year()) {
            today.month()
        } else {
            12
        };
        self.lb.store.read(|c| {
            let minimum_percent = meta::settings(c)?.disadvantaged_min_percent;
            let mut months = Vec::new();
            for m in 1..=last_month {
                let first = Date::new(year as i16, m, 1)
                    .map_err(|_| Error::invalid("the year is out of range"))?;
                let (workers, disadvantaged) =
                    month_heads(c, first, first.last_of_month(), true)?;
                months.push(HeadcountMonth {
                    month: first.strftime("%Y-%m").to_string(),
                    workers,
                    disadvantaged,
                });
            }
            let n = months.len().max(1) as f64;
            let workers: u64 = months.iter().map(|m| m.workers).sum();
            let disadvantaged: u64 = months.iter().map(|m| m.disadvantaged).sum();
            let percent = share(workers, disadvantaged).unwrap_or(0.0);
            let meets_minimum = workers > 0 && percent >= f64::from(minimum_percent);
            let warning = if workers == 0 {
                Some(format!(
                    "no paid workers were counted in {year}: there is no average to return"
                ))
            } else if !meets_minimum {
                Some(format!(
                    "the year's average share of disadvantaged workers, {percent:.1}%, is under the {minimum_percent}% Law 381/1991 art. 4 requires"
                ))
            } else {
                None
            };
            Ok(HeadcountReturn {
                coop_name,
                year,
                as_of: today.to_string(),
                months,
                average_workers: workers as f64 / n,
                average_disadvantaged: disadvantaged as f64 / n,
                percent,
                minimum_percent,
                meets_minimum,
                warning,
            })
        })
    }

    /// The head-count return as CSV with the columns of [`HEADCOUNT_CSV_HEADER`].
    pub fn headcount_csv(&self, year: i32) -> Result<String> {
        headcount_csv(&self.headcount(year)?)
    }

    /// The head-count return as plain text, to read or print.
    pub fn headcount_text(&self, year: i32) -> Result<String> {
        Ok(headcount_text(&self.headcount(year)?))
    }
}

fn share(workers: u64, disadvantaged: u64) -> Option<f64> {
    (workers > 0).then(|| disadvantaged as f64 * 100.0 / workers as f64)
}

pub fn headcount_csv(r: &HeadcountReturn) -> Result<String> {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut rows = vec![
        HEADCOUNT_CSV_HEADER
            .split(',')
            .map(String::from)
            .collect::<Vec<_>>(),
    ];
    for m in &r.months {
        rows.push(vec![
            "month".into(),
            m.month.clone(),
            m.workers.to_string(),
            m.disadvantaged.to_string(),
            share(m.workers, m.disadvantaged)
                .map(|p| format!("{p:.1}"))
                .unwrap_or_default(),
            String::new(),
            String::new(),
        ]);
    }
    rows.push(vec![
        "year_average".into(),
        r.year.to_string(),
        format!("{:.2}", r.average_workers),
        format!("{:.2}", r.average_disadvantaged),
        format!("{:.1}", r.percent),
        r.minimum_percent.to_string(),
        yes(r.meets_minimum),
    ]);
    csv_string(rows)
}

pub fn headcount_text(r: &HeadcountReturn) -> String {
    let mut out = format!(
        "Head-count return, Law 381/1991 art. 4 - {} - {}\n(made {}; a head is an active worker who did paid work in the month)\n\nmonth     workers  disadvantaged  share\n",
        r.coop_name, r.year, r.as_of
    );
    for m in &r.months {
        out.push_str(&format!(
            "{:<9} {:>7}  {:>13}  {}\n",
            m.month,
            m.workers,
            m.disadvantaged,
            share(m.workers, m.disadvantaged)
                .map(|p| format!("{p:.1}%"))
                .unwrap_or_else(|| "-".into())
        ));
    }
    out.push_str(&format!(
        "\nYear average over {} months: {:.2} workers, {:.2} disadvantaged: {:.1}% (minimum {}%)\n",
        r.months.len(),
        r.average_workers,
        r.average_disadvantaged,
        r.percent,
        r.minimum_percent
    ));
    match &r.warning {
        Some(w) => out.push_str(&format!("WARNING: {w}\n")),
        None => out.push_str("The minimum is met.\n"),
    }
    out
}
