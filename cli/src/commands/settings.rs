//! `settings show|pay-period|retention`, `retention`.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use logbook_core::{Logbook, PayPeriod};

use crate::output::{Format, print_json, print_rows};

#[derive(Subcommand)]
pub(crate) enum SettingsCmd {
    /// The coop's settings as this device knows them.
    Show {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// How often payroll runs (`report payroll` without dates uses it).
    PayPeriod {
        #[arg(long, value_enum)]
        period: PeriodArg,
        /// A day a weekly, fortnightly or four-weekly period starts on (`YYYY-MM-DD`).
        #[arg(long)]
        starting: Option<String>,
    },
    /// Retention rules: days after a CPO order's deadline, and after a note thread's
    /// last entry (0: never), until they are erased.
    Retention {
        #[arg(long)]
        cpo_days: Option<u32>,
        #[arg(long)]
        notes_days: Option<u32>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PeriodArg {
    Weekly,
    Fortnightly,
    FourWeekly,
    Monthly,
}

pub(crate) fn run(book: &Logbook, cmd: SettingsCmd) -> Result<()> {
    match cmd {
        SettingsCmd::Show { format } => {
            let s = book.directory().coop()?.settings;
            match format {
                Format::Json => print_json(&s),
                Format::Table => {
                    println!(
                        "pay period: {} (periods step from {})",
                        s.pay_period.as_str(),
                        s.pay_period_start
                    );
                    println!(
                        "CPO orders erased: {} days after the deadline, unless a spent date is set",
                        s.cpo_retention_days
                    );
                    if s.notes_retention_days == 0 {
                        println!("note threads erased: never by retention");
                    } else {
                        println!(
                            "note threads erased: {} days after the last entry",
                            s.notes_retention_days
                        );
                    }
                    println!(
                        "shift needs review after: {} hours",
                        s.review_after_seconds / 3600
                    );
                    println!(
                        "kiosk lockout: {} wrong PINs, {} minutes",
                        s.pin_max_failures,
                        s.pin_lockout_seconds / 60
                    );
                    println!(
                        "disadvantaged workers minimum: {}%",
                        s.disadvantaged_min_percent
                    );
                }
            }
        }
        SettingsCmd::PayPeriod { period, starting } => {
            let period = match period {
                PeriodArg::Weekly => PayPeriod::Weekly,
                PeriodArg::Fortnightly => PayPeriod::Fortnightly,
                PeriodArg::FourWeekly => PayPeriod::FourWeekly,
                PeriodArg::Monthly => PayPeriod::Monthly,
            };
            book.directory()
                .set_pay_period(period, starting.as_deref())?;
        }
        SettingsCmd::Retention {
            cpo_days,
            notes_days,
        } => book.directory().set_retention(cpo_days, notes_days)?,
    }
    Ok(())
}

pub(crate) fn retention(book: &Logbook, format: Format) -> Result<()> {
    let plan = book.retention().plan()?;
    print_rows(
        format,
        &plan,
        &["erase_on", "kind", "person_id", "id", "rule"],
        |i| {
            vec![
                i.erase_on.clone(),
                i.kind.clone(),
                i.person_id.clone(),
                i.id.clone(),
                i.rule.clone(),
            ]
        },
    );
    Ok(())
}
