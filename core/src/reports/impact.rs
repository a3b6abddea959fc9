//! The funder's impact summary for a period: how many people the coop supported, the
//! hours of paid work, volunteering, training and CPO work they did, the certificates
//! they gained and the CPO orders they finished, with a chart of hours per week by type.
//!
//! Aggregates only: no names, no ids. A funder must not be able to pick anyone out, so
//! every figure about fewer than 5 people (1 to 4) is printed as "fewer than 5" instead
//! of its value; a figure about nobody is 0, which tells nothing about anyone. The same
//! rule holds for each week's bar segment in the chart (docs/REPORTS.md).
//!
//! JSON (serde) and PDF (A4, the chart drawn with `pdf-writer` path operators).

use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use rusqlite::{Connection, params};
use serde::{Serialize, Serializer};

use super::Reports;
use super::cpo::hm;
use super::pdf::{self, Chart, Line};
use crate::cpo::{cache as cpo_cache, rules};
use crate::error::{Error, Result};
use crate::model::HourType;
use crate::timesheets::derive;

/// Figures about fewer people than this are suppressed.
pub const SMALL_COUNT: usize = 5;

/// A figure about some people: its value, or `None` when it is about 1 to 4 people
/// ("fewer than 5"). In JSON it is the number or the string `"fewer than 5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Figure {
    pub value: Option<u64>,
}

impl Figure {
    /// `value`, about `people` distinct people.
    pub fn about(value: u64, people: usize) -> Figure {
        Figure {
            value: if (1..SMALL_COUNT).contains(&people) {
                None
            } else {
                Some(value)
            },
        }
    }

    fn show(&self, f: impl Fn(u64) -> String) -> String {
        match self.value {
            Some(v) => f(v),
            None => "fewer than 5".into(),
        }
    }
}

impl Serialize for Figure {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.value {
            Some(v) => s.serialize_u64(v),
            None => s.serialize_str("fewer than 5"),
        }
    }
}

/// One week (Monday to Sunday, cut to the period) of the chart: minutes by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ImpactWeek {
    /// The week's Monday, `YYYY-MM-DD` (it may be before the period starts).
    pub week_start: String,
    pub paid_minutes: Figure,
    pub volunteer_minutes: Figure,
    pub training_minutes: Figure,
    /// Unpaid work and other activity together.
    pub cpo_minutes: Figure,
}

/// The impact summary (docs/REPORTS.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ImpactReport {
    pub coop_name: String,
    pub from: String,
    pub to: String,
    /// People with a counted shift or a training record in the period.
    pub people_supported: Figure,
    pub paid_minutes: Figure,
    pub volunteer_minutes: Figure,
    /// Shifts clocked as training.
    pub training_minutes: Figure,
    /// Training records dated in the period that carry a certificate (a reference or a
    /// review date).
    pub certificates_gained: Figure,
    /// CPO unpaid work and other activity done in the period (before an order's cap on
    /// other activity, which is the CPO paper's business).
    pub cpo_minutes: Figure,
    /// Orders whose hours were completed by a session in the period.
    pub cpo_orders_finished: Figure,
    pub weeks: Vec<ImpactWeek>,
}

/// Seconds and the people behind them.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) seconds: i64,
    people: HashSet<String>,
}

impl Tally {
    fn add(&mut self, person: &str, seconds: i64) {
        self.seconds += seconds;
        self.people.insert(person.to_string());
    }

    fn minutes(&self) -> Figure {
        Figure::about((self.seconds.max(0) / 60) as u64, self.people.len())
    }
}

/// The four kinds of hours the summary shows.
const PAID: usize = 0;
const VOLUNTEER: usize = 1;
const TRAINING: usize = 2;
const CPO: usize = 3;

fn kind(t: HourType) -> usize {
    match t {
        HourType::Paid => PAID,
        HourType::Volunteer => VOLUNTEER,
        HourType::Training => TRAINING,
        HourType::CpoUnpaidWork | HourType::CpoOtherActivity => CPO,
    }
}

impl Reports<'_> {
    /// The impact summary for local dates `from..=to`. Coordinators only.
    pub fn impact(&self, from: &str, to: &str) -> Result<ImpactReport> {
        let (from, to) = super::period(from, to)?;
        self.lb.access().require_reports()?;
        let coop_name = self.lb.directory().coop()?.name;
        self.lb.store.read(|c| impact(c, coop_name, from, to))
    }

    /// The impact summary as pretty JSON.
    pub fn impact_json(&self, from: &str, to: &str) -> Result<String> {
        serde_json::to_string_pretty(&self.impact(from, to)?)
            .map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// The impact summary as a printable PDF (A4) with its chart.
    pub fn impact_pdf(&self, from: &str, to: &str) -> Result<Vec<u8>> {
        Ok(impact_pdf(&self.impact(from, to)?))
    }
}

fn impact(c: &Connection, coop_name: String, from: Date, to: Date) -> Result<ImpactReport> {
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let mut supported: HashSet<String> = HashSet::new();
    let mut totals: [Tally; 4] = Default::default();
    let mut weeks: BTreeMap<Date, [Tally; 4]> = BTreeMap::new();
    let mut stmt = c.prepare_cached(
        "SELECT person, local_date, hour_type, counted_seconds FROM shifts
         WHERE local_date >= ?1 AND local_date <= ?2 AND counted_seconds > 0",
    )?;
    let rows = stmt.query_map(params![from_s, to_s], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (person, date, hour_type, seconds) = row?;
        let date: Date = date
            .parse()
            .map_err(|_| Error::Corrupt("bad shift date".into()))?;
        let k = kind(
            hour_type
                .parse()
                .map_err(|_| Error::Corrupt("unknown hour type".into()))?,
        );
        totals[k].add(&person, seconds);
        weeks.entry(derive::week_start(date)).or_default()[k].add(&person, seconds);
        supported.insert(person);
    }
    // Every week of the period has a bar, even an empty one, so the chart's time axis
    // is even.
    let mut week = derive::week_start(from);
    while week <= to {
        weeks.entry(week).or_default();
        week = match week.checked_add(jiff::Span::new().days(7)) {
            Ok(w) => w,
            Err(_) => break,
        };
    }

    let mut certificates = Tally::default();
    let mut stmt = c.prepare_cached(
        "SELECT person, certificate_ref IS NOT NULL OR expires_on IS NOT NULL FROM training
         WHERE date >= ?1 AND date <= ?2",
    )?;
    let rows = stmt.query_map(params![from_s, to_s], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
    })?;
    for row in rows {
        let (person, certificate) = row?;
        if certificate {
            certificates.add(&person, 1);
        }
        supported.insert(person);
    }

    let finished = orders_finished(c, from, to)?;

    Ok(ImpactReport {
        coop_name,
        from: from_s,
        to: to_s,
        people_supported: Figure::about(supported.len() as u64, supported.len()),
        paid_minutes: totals[PAID].minutes(),
        volunteer_minutes: totals[VOLUNTEER].minutes(),
        training_minutes: totals[TRAINING].minutes(),
        certificates_gained: Figure::about(certificates.seconds as u64, certificates.people.len()),
        cpo_minutes: totals[CPO].minutes(),
        cpo_orders_finished: Figure::about(finished.seconds as u64, finished.people.len()),
        weeks: weeks
            .into_iter()
            .map(|(week, t)| ImpactWeek {
                week_start: week.to_string(),
                paid_minutes: t[PAID].minutes(),
                volunteer_minutes: t[VOLUNTEER].minutes(),
                training_minutes: t[TRAINING].minutes(),
                cpo_minutes: t[CPO].minutes(),
            })
            .collect(),
    })
}

/// Orders finished in `from..=to`: complete counting the sessions up to `to`, and not
/// complete counting those before `from` (an order's sessions run from its start until
/// the next order of the same person starts, as `cpo().progress` counts them). The
/// tally's `seconds` is the number of orders.
pub(super) fn orders_finished(c: &Connection, from: Date, to: Date) -> Result<Tally> {
    let mut finished = Tally::default();
    let people: Vec<String> = c
        .prepare_cached("SELECT DISTINCT person FROM cpo_orders")?
        .query_map([], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let day_after = |d: Date| {
        d.tomorrow()
            .map_err(|_| Error::invalid("date out of range"))
    };
    for person in people {
        let orders = cpo_cache::orders(c, &person)?;
        for (i, order) in orders.iter().enumerate() {
            let next = orders
                .get(i + 1)
                .map(|o| o.start_date.clone())
                .unwrap_or_else(|| "9999-12-31".into());
            let done_before = |until: &str| -> Result<bool> {
                let until = until.min(next.as_str());
                let sum = |t| cpo_cache::counted_seconds(c, &person, t, &order.start_date, until);
                let p = rules::progress(
                    order,
                    sum(HourType::CpoUnpaidWork)?,
                    sum(HourType::CpoOtherActivity)?,
                    to,
                )?;
                Ok(p.complete)
            };
            if done_before(&day_after(to)?.to_string())? && !done_before(&from.to_string())? {
                finished.add(&person, 1);
            }
        }
    }
    Ok(finished)
}

pub fn impact_pdf(r: &ImpactReport) -> Vec<u8> {
    let hours = |f: &Figure| f.show(hm_u64);
    let count = |f: &Figure| f.show(|v| v.to_string());
    let mut lines = vec![
        Line::Title("Impact summary".into()),
        Line::Text(r.coop_name.clone()),
        Line::Text(format!("Period: {} to {}", r.from, r.to)),
        Line::Text(
            "Aggregates only. A figure about fewer than 5 people is shown as \"fewer than 5\"."
                .into(),
        ),
        Line::Heading("What people did".into()),
        Line::Text(format!("People supported: {}", count(&r.people_supported))),
        Line::Text(format!("Hours of paid work: {}", hours(&r.paid_minutes))),
        Line::Text(format!(
            "Hours of volunteering: {}",
            hours(&r.volunteer_minutes)
        )),
        Line::Text(format!("Hours of training: {}", hours(&r.training_minutes))),
        Line::Text(format!(
            "Certificates gained: {}",
            count(&r.certificates_gained)
        )),
        Line::Text(format!(
            "Community Payback Order hours completed: {}",
            hours(&r.cpo_minutes)
        )),
        Line::Text(format!(
            "Community Payback Orders finished: {}",
            count(&r.cpo_orders_finished)
        )),
        Line::Text("Hours are shown as hours:minutes.".into()),
        Line::Heading("Hours per week by type".into()),
    ];
    let f = |fig: &Figure| fig.value.map(|m| m as f32 / 60.0);
    lines.push(Line::Chart(Chart {
        series: vec![
            ("Paid work".into(), [0.16, 0.42, 0.67]),
            ("Volunteering".into(), [0.35, 0.66, 0.35]),
            ("Training".into(), [0.93, 0.63, 0.2]),
            ("CPO hours".into(), [0.6, 0.42, 0.68]),
        ],
        groups: r
            .weeks
            .iter()
            .map(|w| {
                (
                    w.week_start.get(5..).unwrap_or(&w.week_start).to_string(),
                    vec![
                        f(&w.paid_minutes),
                        f(&w.volunteer_minutes),
                        f(&w.training_minutes),
                        f(&w.cpo_minutes),
                    ],
                )
            })
            .collect(),
        unit: "hours (weeks from Monday MM-DD)".into(),
    }));
    lines.push(Line::Heading("The weeks in figures (hours:minutes)".into()));
    lines.push(Line::Row(
        vec![
            (0.0, "Week of".into()),
            (90.0, "Paid work".into()),
            (180.0, "Volunteering".into()),
            (270.0, "Training".into()),
            (360.0, "CPO".into()),
        ],
        true,
    ));
    for w in &r.weeks {
        lines.push(Line::Row(
            vec![
                (0.0, w.week_start.clone()),
                (90.0, hours(&w.paid_minutes)),
                (180.0, hours(&w.volunteer_minutes)),
                (270.0, hours(&w.training_minutes)),
                (360.0, hours(&w.cpo_minutes)),
            ],
            false,
        ));
    }
    pdf::render(
        "Impact summary",
        &format!("Impact summary - {} - {} to {}", r.coop_name, r.from, r.to),
        &lines,
    )
}

fn hm_u64(minutes: u64) -> String {
    hm(u32::try_from(minutes).unwrap_or(u32::MAX))
}
