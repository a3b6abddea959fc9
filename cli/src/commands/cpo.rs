//! `cpo set|show|purge`.

use anyhow::Result;
use clap::Subcommand;
use logbook_core::Logbook;

use crate::output::{self, Format, print_rows};

#[derive(Subcommand)]
pub(crate) enum CpoCmd {
    /// Record a Community Payback Order; prints its id.
    Set {
        #[arg(long)]
        person: String,
        #[arg(long)]
        hours: u32,
        #[arg(long)]
        start: String,
        #[arg(long)]
        deadline: Option<String>,
    },
    /// Progress on a person's orders.
    Show {
        #[arg(long)]
        person: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Set the day an order's conviction is spent: retention erases the order from that
    /// day (default: the retention setting's days after the deadline; `logbook
    /// retention` shows when).
    SetSpent {
        #[arg(long)]
        person: String,
        #[arg(long)]
        order: String,
        /// `YYYY-MM-DD`; leave out to go back to the default.
        #[arg(long)]
        date: Option<String>,
    },
    /// Erase an order and its history (e.g. when the conviction is spent).
    Purge {
        #[arg(long)]
        person: String,
        #[arg(long)]
        order: String,
    },
}

pub(crate) fn run(book: &Logbook, cmd: CpoCmd) -> Result<()> {
    let cpo = book.cpo();
    match cmd {
        CpoCmd::SetSpent {
            person,
            order,
            date,
        } => cpo.set_spent_on(&person, &order, date.as_deref())?,
        CpoCmd::Set {
            person,
            hours,
            start,
            deadline,
        } => println!(
            "{}",
            cpo.set_order(&person, hours, &start, deadline.as_deref())?
        ),
        CpoCmd::Show { person, format } => {
            let progress = cpo.progress(&person)?;
            print_rows(
                format,
                &progress,
                &[
                    "order",
                    "ordered",
                    "done",
                    "left",
                    "other (counted/cap)",
                    "deadline",
                    "days left",
                    "on track",
                ],
                |p| {
                    vec![
                        p.order_id.clone(),
                        format!("{}h", p.hours_ordered),
                        output::hm(i64::from(p.done_minutes) * 60),
                        output::hm(i64::from(p.left_minutes) * 60),
                        format!(
                            "{}/{}",
                            output::hm(i64::from(p.other_activity_counted_minutes) * 60),
                            output::hm(i64::from(p.other_activity_cap_minutes) * 60)
                        ),
                        p.deadline.clone(),
                        p.days_to_deadline.to_string(),
                        if p.complete {
                            "complete".into()
                        } else if p.on_track {
                            "yes".into()
                        } else {
                            "no".into()
                        },
                    ]
                },
            );
        }
        CpoCmd::Purge { person, order } => {
            cpo.purge(&person, &order)?;
            println!("erased order {order}");
        }
    }
    Ok(())
}
