//! The training matrix: people × courses, each cell `valid`, `due` (the certificate's
//! review date is within the next N days), `expired` or `missing`. A cell looks at the
//! person's most recent record of that course (by training date, then review date); a
//! record with no review date stays valid. Active people only, by name; courses by name.
//!
//! CSV (`docs/REPORTS.md`): long, one row per person and course, with the columns of
//! [`TRAINING_MATRIX_CSV_HEADER`]. PDF (for an inspector): the same cells, a block per
//! person, with a count of each status at the top so the gaps show first.

use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::Reports;
use super::cpo::csv_string;
use super::pdf::{self, Line};
use crate::error::{Error, Result};

/// One cell of the training matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TrainingCell {
    pub person_id: String,
    pub person_name: String,
    pub course_id: String,
    pub course_name: String,
    /// `valid`, `due`, `expired` or `missing`.
    pub status: String,
    /// Date of the most recent training of this course, if any.
    pub trained_on: Option<String>,
    /// Its review (expiry) date, if it has one.
    pub expires_on: Option<String>,
}

pub const TRAINING_MATRIX_CSV_HEADER: &str = "person_id,person_name,course_id,course_name,status,trained_on,expires_on,as_of,due_within_days";

/// A cell's status on `today`, with `due_by` = today + N days.
pub fn status(expires_on: Option<Date>, found: bool, today: Date, due_by: Date) -> &'static str {
    match (found, expires_on) {
        (false, _) => "missing",
        (true, None) => "valid",
        (true, Some(e)) if e < today => "expired",
        (true, Some(e)) if e <= due_by => "due",
        (true, Some(_)) => "valid",
    }
}

impl Reports<'_> {
    /// The training matrix as of today, with certificates due for review within `days`
    /// days marked `due`. Coordinators only.
    pub fn training_matrix(&self, days: u32) -> Result<Vec<TrainingCell>> {
        self.lb.access().require_reports()?;
        let today = self.lb.directory().today()?;
        let due_by = today
            .checked_add(jiff::Span::new().days(i64::from(days.min(3660))))
            .map_err(|_| Error::invalid("too many days"))?;
        let people = self.lb.directory().people()?;
        let courses = self.lb.training().courses()?;
        self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT date, expires_on FROM training WHERE person = ?1 AND course_id = ?2
                 ORDER BY date DESC, coalesce(expires_on, '9999-12-31') DESC LIMIT 1",
            )?;
            let mut courses = courses.clone();
            courses.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            let mut out = Vec::new();
            for p in people.iter().filter(|p| p.active) {
                for course in &courses {
                    let found: Option<(String, Option<String>)> = stmt
                        .query_row(params![p.id, course.id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    let expires: Option<Date> = match found.as_ref().and_then(|f| f.1.as_ref()) {
                        Some(e) => Some(
                            e.parse()
                                .map_err(|_| Error::Corrupt("bad review date".into()))?,
                        ),
                        None => None,
                    };
                    out.push(TrainingCell {
                        person_id: p.id.clone(),
                        person_name: p.name.clone(),
                        course_id: course.id.clone(),
                        course_name: course.name.clone(),
                        status: status(expires, found.is_some(), today, due_by).to_string(),
                        trained_on: found.as_ref().map(|f| f.0.clone()),
                        expires_on: found.and_then(|f| f.1),
                    });
                }
            }
            Ok(out)
        })
    }

    /// The training matrix as CSV with the columns of [`TRAINING_MATRIX_CSV_HEADER`].
    pub fn training_matrix_csv(&self, days: u32) -> Result<String> {
        let cells = self.training_matrix(days)?;
        let today = self.lb.directory().today()?.to_string();
        let mut rows = vec![
            TRAINING_MATRIX_CSV_HEADER
                .split(',')
                .map(String::from)
                .collect::<Vec<_>>(),
        ];
        for c in cells {
            rows.push(vec![
                c.person_id,
                c.person_name,
                c.course_id,
                c.course_name,
                c.status,
                c.trained_on.unwrap_or_default(),
                c.expires_on.unwrap_or_default(),
                today.clone(),
                days.to_string(),
            ]);
        }
        csv_string(rows)
    }
}

impl Reports<'_> {
    /// The training matrix as a printable PDF (A4) for an inspector.
    pub fn training_matrix_pdf(&self, days: u32) -> Result<Vec<u8>> {
        let cells = self.training_matrix(days)?;
        let coop = self.lb.directory().coop()?.name;
        let today = self.lb.directory().today()?.to_string();
        Ok(training_matrix_pdf(&coop, &today, days, &cells))
    }
}

fn training_matrix_pdf(coop: &str, as_of: &str, days: u32, cells: &[TrainingCell]) -> Vec<u8> {
    let count = |s: &str| cells.iter().filter(|c| c.status == s).count();
    let mut lines = vec![
        Line::Title("Training matrix".into()),
        Line::Text(coop.to_string()),
        Line::Text(format!(
            "As of {as_of}. \"due\": the review date is within {days} days; \"expired\": it has passed; \"missing\": no record."
        )),
        Line::Text(format!(
            "Cells: {} valid, {} due, {} expired, {} missing",
            count("valid"),
            count("due"),
            count("expired"),
            count("missing")
        )),
        Line::Gap,
        Line::Row(
            vec![
                (0.0, "Person".into()),
                (130.0, "Course".into()),
                (270.0, "Status".into()),
                (330.0, "Trained on".into()),
                (410.0, "Review by".into()),
            ],
            true,
        ),
    ];
    let mut last_person = "";
    for c in cells {
        let person = if c.person_id == last_person {
            String::new()
        } else {
            c.person_name.clone()
        };
        last_person = &c.person_id;
        lines.push(Line::Row(
            vec![
                (0.0, person),
                (130.0, c.course_name.clone()),
                (270.0, c.status.clone()),
                (330.0, c.trained_on.clone().unwrap_or_else(|| "-".into())),
                (410.0, c.expires_on.clone().unwrap_or_else(|| "-".into())),
            ],
            false,
        ));
    }
    if cells.is_empty() {
        lines.push(Line::Text("No active people or no courses.".into()));
    }
    lines.extend([
        Line::Gap,
        Line::Gap,
        Line::Signature("Coordinator: name and signature".into()),
    ]);
    pdf::render(
        "Training matrix",
        &format!("Training matrix - {coop} - {as_of}"),
        &lines,
    )
}
