//! `training add|list|expiring|courses|add-course|induction`.

use anyhow::{Result, bail};
use clap::Subcommand;
use logbook_core::{Logbook, NewTraining, TrainingRecord};

use crate::output::{self, Format, print_rows};

#[derive(Subcommand)]
pub(crate) enum TrainingCmd {
    /// Record training; prints the record id.
    Add {
        #[arg(long)]
        person: String,
        /// Course id or name (a new name creates the course).
        #[arg(long)]
        course: String,
        /// YYYY-MM-DD (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Hours, e.g. 3 or 1.5.
        #[arg(long, default_value_t = 0.0)]
        hours: f64,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        certificate: Option<String>,
        /// Review/expiry date (default: the course's review period after the date).
        #[arg(long)]
        expires: Option<String>,
        #[arg(long)]
        trainee_signed: bool,
        #[arg(long)]
        supervisor_signed: bool,
    },
    List {
        #[arg(long)]
        person: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Certificates expiring within DAYS (and already expired).
    Expiring {
        #[arg(long)]
        within: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Courses {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add a course; prints its id.
    AddCourse {
        #[arg(long)]
        name: String,
        #[arg(long)]
        review_months: Option<u32>,
    },
    /// Sign off an induction checklist item.
    Induction {
        #[arg(long)]
        person: String,
        #[arg(long)]
        item: String,
        #[arg(long)]
        trainee_signed: bool,
        #[arg(long)]
        supervisor_signed: bool,
    },
}

pub(crate) fn run(book: &Logbook, cmd: TrainingCmd) -> Result<()> {
    let training = book.training();
    match cmd {
        TrainingCmd::Add {
            person,
            course,
            date,
            hours,
            provider,
            certificate,
            expires,
            trainee_signed,
            supervisor_signed,
        } => {
            if hours.is_nan() || hours < 0.0 {
                bail!("training hours are a number of hours, e.g. 3 or 1.5");
            }
            let date = match date {
                Some(d) => d,
                None => book.directory().today()?.to_string(),
            };
            let id = training.add_training(NewTraining {
                person_id: person,
                course,
                date,
                minutes: (hours * 60.0).round().min(f64::from(u32::MAX)) as u32,
                provider,
                certificate_ref: certificate,
                expires_on: expires,
                trainee_signed,
                supervisor_signed,
            })?;
            println!("{id}");
        }
        TrainingCmd::List { person, format } => {
            records(format, &training.records(&person)?);
        }
        TrainingCmd::Expiring { within, format } => {
            records(format, &training.expiring(within)?);
        }
        TrainingCmd::Courses { format } => {
            let courses = training.courses()?;
            print_rows(format, &courses, &["id", "name", "review_months"], |c| {
                vec![
                    c.id.clone(),
                    c.name.clone(),
                    c.review_months
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "-".into()),
                ]
            });
        }
        TrainingCmd::AddCourse {
            name,
            review_months,
        } => println!("{}", training.add_course(&name, review_months)?),
        TrainingCmd::Induction {
            person,
            item,
            trainee_signed,
            supervisor_signed,
        } => println!(
            "{}",
            training.sign_induction(&person, &item, trainee_signed, supervisor_signed)?
        ),
    }
    Ok(())
}

fn records(format: Format, records: &[TrainingRecord]) {
    print_rows(
        format,
        records,
        &[
            "id",
            "person",
            "course",
            "date",
            "hours",
            "certificate",
            "expires",
        ],
        |t| {
            vec![
                t.id.clone(),
                t.person_id.clone(),
                t.course_name.clone(),
                t.date.clone(),
                output::hm(i64::from(t.minutes) * 60),
                t.certificate_ref.clone().unwrap_or_else(|| "-".into()),
                t.expires_on.clone().unwrap_or_else(|| "-".into()),
            ]
        },
    );
}
