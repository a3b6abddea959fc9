//! `report hours|ratio`, `export person`.

use anyhow::Result;
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
    }
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
