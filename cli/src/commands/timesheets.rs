//! `clock-in`, `clock-out`, `break-start`, `break-end`, `on-shift`, `shifts`,
//! `shift correct|history`, `week approve|lock`.

use anyhow::Result;
use clap::{Args, Subcommand};
use logbook_core::{Logbook, PunchKind, ShiftCorrection};

use super::{parse_at, parse_type};
use crate::output::{self, Format, print_rows};

#[derive(Args)]
pub(crate) struct PunchArgs {
    #[arg(long)]
    pub(crate) person: String,
    /// Hour type (clock-in only): paid, volunteer, cpo_unpaid_work, cpo_other_activity, training.
    #[arg(long = "type")]
    pub(crate) hour_type: Option<String>,
    #[arg(long)]
    pub(crate) site: Option<String>,
    /// Device time of the tap, RFC 3339 (default: now).
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// The person's kiosk PIN (required on a kiosk).
    #[arg(long)]
    pub(crate) pin: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum ShiftCmd {
    /// Correct a shift (coordinators); prints the correction id.
    Correct {
        #[arg(long)]
        shift: String,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        #[arg(long = "type")]
        hour_type: Option<String>,
        #[arg(long)]
        break_minutes: Option<u32>,
        /// Not a shift at all: count nothing.
        #[arg(long)]
        void: bool,
        #[arg(long)]
        reason: String,
    },
    /// A shift's audit trail.
    History {
        #[arg(long)]
        shift: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub(crate) enum WeekCmd {
    /// Approve the week containing DATE (everyone with shifts, or --person).
    Approve {
        #[arg(long)]
        date: String,
        #[arg(long)]
        person: Vec<String>,
    },
    /// Lock the week containing DATE: no more corrections.
    Lock {
        #[arg(long)]
        date: String,
        #[arg(long)]
        person: Vec<String>,
    },
}

/// A tap. With `--pin` it goes through the kiosk's PIN check (the only way on a kiosk);
/// without, it is this device's own tap. The core decides what is allowed.
pub(crate) fn punch(book: &Logbook, kind: PunchKind, a: PunchArgs) -> Result<()> {
    let at = parse_at(&a.at)?;
    let hour_type = parse_type(&a.hour_type)?;
    let id = match &a.pin {
        Some(pin) => book.kiosk().punch(&a.person, pin, kind, at, hour_type)?,
        None => {
            let timesheets = book.timesheets();
            let source = timesheets.punch_source()?;
            timesheets.punch(&a.person, kind, at, hour_type, a.site.as_deref(), source)?
        }
    };
    println!("{id}");
    Ok(())
}

pub(crate) fn on_shift(book: &Logbook, format: Format) -> Result<()> {
    let people = book.kiosk().on_shift()?;
    print_rows(format, &people, &["person_id", "name"], |s| {
        vec![s.person_id.clone(), s.name.clone()]
    });
    Ok(())
}

pub(crate) fn shifts(
    book: &Logbook,
    person: &str,
    from: Option<&str>,
    to: Option<&str>,
    format: Format,
) -> Result<()> {
    let tz = book
        .directory()
        .coop()
        .map(|c| c.timezone)
        .unwrap_or_else(|_| "UTC".into());
    let shifts = book.timesheets().shifts(person, from, to)?;
    print_rows(
        format,
        &shifts,
        &[
            "id", "date", "start", "end", "type", "break", "worked", "status",
        ],
        |s| {
            vec![
                s.id.clone(),
                s.local_date.clone(),
                output::local_time(s.start, &tz),
                s.end
                    .map(|e| output::local_time(e, &tz))
                    .unwrap_or_else(|| "-".into()),
                s.hour_type.to_string(),
                output::hm(s.break_seconds),
                output::hm(s.counted_seconds),
                s.status.as_str().to_string(),
            ]
        },
    );
    Ok(())
}

pub(crate) fn shift(book: &Logbook, cmd: ShiftCmd) -> Result<()> {
    match cmd {
        ShiftCmd::Correct {
            shift,
            start,
            end,
            hour_type,
            break_minutes,
            void,
            reason,
        } => {
            let id = book.timesheets().correct_shift(
                &shift,
                ShiftCorrection {
                    start: parse_at(&start)?,
                    end: parse_at(&end)?,
                    hour_type: parse_type(&hour_type)?,
                    break_seconds: break_minutes.map(|m| i64::from(m) * 60),
                    void,
                    reason,
                },
            )?;
            println!("{id}");
        }
        ShiftCmd::History { shift, format } => {
            let h = book.timesheets().shift_history(&shift)?;
            print_rows(
                format,
                &h,
                &["event", "kind", "by", "at", "reason", "change"],
                |e| {
                    vec![
                        e.event_id.clone(),
                        e.kind.clone(),
                        e.by.clone(),
                        output::utc(e.at),
                        e.reason.clone(),
                        e.change.clone().unwrap_or_default(),
                    ]
                },
            );
        }
    }
    Ok(())
}

pub(crate) fn week(book: &Logbook, cmd: WeekCmd) -> Result<()> {
    match cmd {
        WeekCmd::Approve { date, person } => {
            let ids = book.timesheets().review_week(&date, &person, false)?;
            println!("approved the week of {date} for {} people", ids.len());
        }
        WeekCmd::Lock { date, person } => {
            let ids = book.timesheets().review_week(&date, &person, true)?;
            println!("locked the week of {date} for {} people", ids.len());
        }
    }
    Ok(())
}

/// Clock in and out `count` times, printing each punch id once it is durable.
pub(crate) fn stress_punches(book: &Logbook, person: &str, count: u32, start: i64) -> Result<()> {
    use std::io::Write;
    let timesheets = book.timesheets();
    let source = timesheets.punch_source()?;
    let mut out = std::io::stdout().lock();
    for i in 0..i64::from(count) {
        let kind = if i % 2 == 0 {
            PunchKind::ClockIn
        } else {
            PunchKind::ClockOut
        };
        let id = timesheets.punch(person, kind, Some(start + i * 60), None, None, source)?;
        // Acknowledged: the punch is committed and fsynced before this line exists.
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    Ok(())
}
