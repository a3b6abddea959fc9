//! `report hours|ratio|cpo|payroll|training|impact|headcount|attendance`, `export person`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use logbook_core::Logbook;

use crate::output::{self, Format, print_json, print_rows};

#[derive(Subcommand)]
pub(crate) enum ReportCmd {
    /// Hours per person and hour type.
    Hours {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Head-count ratio of disadvantaged workers.
    Ratio {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// CPO progress for the unpaid work officer: one person, one order (docs/REPORTS.md).
    Cpo {
        #[arg(long)]
        person: String,
        #[arg(long)]
        order: String,
        #[arg(long, value_enum)]
        format: PaperFormat,
        /// Write here (required for PDF); CSV goes to stdout without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Payroll export: approved and locked weeks only, plus what is not approved yet
    /// (docs/REPORTS.md).
    ///
    /// Without --from/--to: one pay period of the coop's setting (`logbook settings
    /// pay-period`), the one holding --period-of, else the last whole one before today.
    Payroll {
        #[arg(long, requires = "to", conflicts_with = "period_of")]
        from: Option<String>,
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// A day in the pay period wanted (`YYYY-MM-DD`).
        #[arg(long)]
        period_of: Option<String>,
        /// Write the CSV here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Training matrix for an inspector: people × courses, valid / due / expired /
    /// missing, as CSV or PDF (docs/REPORTS.md).
    #[command(alias = "training-matrix")]
    Training {
        /// A certificate due for review within this many days is `due`.
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, value_enum, default_value_t = PaperFormat::Csv)]
        format: PaperFormat,
        /// Write here (required for PDF); CSV goes to stdout without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Impact summary for a funder: aggregates only, figures about fewer than 5 people
    /// suppressed, with a chart of hours per week (docs/REPORTS.md).
    Impact {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum)]
        format: ImpactFormat,
        /// Write here (required for PDF); JSON goes to stdout without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Italian head-count return (Law 381/1991 art. 4): monthly heads and the year's
    /// average share of disadvantaged workers, with a warning under the minimum.
    Headcount {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Swedish monthly attendance return: days present and absent per person (CSV).
    Attendance {
        /// `YYYY-MM`.
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value_t = CsvFormat::Csv)]
        format: CsvFormat,
        /// Write the CSV here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum ImpactFormat {
    Json,
    Pdf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum TextFormat {
    Text,
    Csv,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum CsvFormat {
    Csv,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum PaperFormat {
    Csv,
    Pdf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum ReportFormat {
    Csv,
    Json,
    Table,
}

#[derive(Subcommand)]
pub(crate) enum ExportCmd {
    /// Everything held about a person, as readable JSON (subject access).
    Person {
        #[arg(long)]
        person: String,
    },
}

pub(crate) fn run(book: &Logbook, cmd: ReportCmd) -> Result<()> {
    let reports = book.reports();
    match cmd {
        ReportCmd::Hours { from, to, format } => match format {
            ReportFormat::Csv => print!("{}", reports.hours_csv(&from, &to)?),
            ReportFormat::Json => print_json(&reports.hours(&from, &to)?),
            ReportFormat::Table => {
                let rows = reports.hours(&from, &to)?;
                print_rows(
                    Format::Table,
                    &rows,
                    &["person_id", "person_name", "hour_type", "shifts", "hours"],
                    |r| {
                        vec![
                            r.person_id.clone(),
                            r.person_name.clone(),
                            r.hour_type.to_string(),
                            r.shifts.to_string(),
                            output::hm(r.minutes as i64 * 60),
                        ]
                    },
                );
            }
        },
        ReportCmd::Ratio { from, to, format } => {
            let r = reports.ratio(&from, &to)?;
            match format {
                Format::Json => print_json(&r),
                Format::Table => println!(
                    "{} to {}: {:.1} of {:.1} workers disadvantaged on average ({:.1}%, minimum {}%): {}",
                    r.from,
                    r.to,
                    r.average_disadvantaged,
                    r.average_workers,
                    r.percent,
                    r.minimum_percent,
                    if r.meets_minimum {
                        "meets the minimum"
                    } else {
                        "BELOW the minimum"
                    }
                ),
            }
        }
        ReportCmd::Cpo {
            person,
            order,
            format,
            out,
        } => match (format, out) {
            (PaperFormat::Pdf, None) => bail!("a PDF needs --out FILE"),
            (PaperFormat::Pdf, Some(out)) => {
                write_paper(&out, &reports.cpo_report_pdf(&person, &order)?)?
            }
            (PaperFormat::Csv, Some(out)) => {
                write_paper(&out, reports.cpo_report_csv(&person, &order)?.as_bytes())?
            }
            (PaperFormat::Csv, None) => print!("{}", reports.cpo_report_csv(&person, &order)?),
        },
        ReportCmd::Payroll {
            from,
            to,
            period_of,
            out,
        } => {
            let csv = match (from, to) {
                (Some(from), Some(to)) => reports.payroll_csv(&from, &to)?,
                _ => reports.payroll_for_period_csv(period_of.as_deref())?,
            };
            match out {
                Some(out) => write_paper(&out, csv.as_bytes())?,
                None => print!("{csv}"),
            }
        }
        ReportCmd::Training { days, format, out } => match format {
            PaperFormat::Csv => text_paper(out, reports.training_matrix_csv(days)?)?,
            PaperFormat::Pdf => pdf_paper(out, || Ok(reports.training_matrix_pdf(days)?))?,
        },
        ReportCmd::Impact {
            from,
            to,
            format,
            out,
        } => match format {
            ImpactFormat::Json => text_paper(out, reports.impact_json(&from, &to)? + "\n")?,
            ImpactFormat::Pdf => pdf_paper(out, || Ok(reports.impact_pdf(&from, &to)?))?,
        },
        ReportCmd::Headcount { year, format, out } => match format {
            TextFormat::Text => text_paper(out, reports.headcount_text(year)?)?,
            TextFormat::Csv => text_paper(out, reports.headcount_csv(year)?)?,
        },
        ReportCmd::Attendance { month, format, out } => match format {
            CsvFormat::Csv => text_paper(out, reports.attendance_csv(&month)?)?,
        },
    }
    Ok(())
}

/// A text paper: to `out` if given, else stdout.
fn text_paper(out: Option<PathBuf>, text: String) -> Result<()> {
    match out {
        Some(out) => write_paper(&out, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// A PDF paper: only to a file (a terminal is no place for PDF bytes). The `--out`
/// check comes first, so a missing `--out` makes nothing.
fn pdf_paper(out: Option<PathBuf>, make: impl FnOnce() -> Result<Vec<u8>>) -> Result<()> {
    match out {
        None => bail!("a PDF needs --out FILE"),
        Some(out) => write_paper(&out, &make()?),
    }
}

/// Write a finished paper whole: to a temporary file beside `out`, then renamed, so a
/// failure leaves nothing half-written. Prints where it went.
fn write_paper(out: &Path, bytes: &[u8]) -> Result<()> {
    let name = out
        .file_name()
        .context("--out must name a file")?
        .to_string_lossy();
    let tmp = out.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, out));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        bail!("could not write {}: {e}", out.display());
    }
    println!("wrote {}", out.display());
    Ok(())
}

pub(crate) fn export(book: &Logbook, cmd: ExportCmd) -> Result<()> {
    match cmd {
        ExportCmd::Person { person } => {
            let v = book.reports().export_person(&person)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    }
    Ok(())
}
