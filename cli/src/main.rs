//! `logbook`: the Co-op Logbook command-line client, for coordinators, operators,
//! scripts and the demo. Every command works on one device's store (`--home`).
//!
//! Errors print one line on stderr and exit 1; nothing is written when a command fails.
//! This file holds the command tree; `commands/<feature>.rs` holds each feature's
//! arguments and printing. Every rule is the core's.

mod commands;
mod demo;
mod key;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use logbook_core::{Logbook, PunchKind};

use commands::sync::RoleArg;
use commands::{
    YesNo, cpo, device, directory, notes, reports, settings, sync, timesheets, training,
};
use output::Format;

#[derive(Parser)]
#[command(
    name = "logbook",
    version,
    about = "Co-op Logbook: an offline-first logbook for social cooperatives"
)]
struct Cli {
    /// The device's data directory.
    #[arg(
        long,
        env = "LOGBOOK_HOME",
        default_value = "./logbook-home",
        global = true
    )]
    home: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a new coop on this device.
    Init {
        #[arg(long)]
        coop_name: String,
        /// IANA time zone, e.g. Europe/London.
        #[arg(long)]
        timezone: String,
    },
    /// What this device holds: coop, role, pending changes.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    #[command(subcommand)]
    People(directory::PeopleCmd),
    #[command(subcommand)]
    Sites(directory::SitesCmd),
    /// Clock a person in.
    ClockIn(timesheets::PunchArgs),
    /// Clock a person out.
    ClockOut(timesheets::PunchArgs),
    /// Start a break.
    BreakStart(timesheets::PunchArgs),
    /// End a break.
    BreakEnd(timesheets::PunchArgs),
    /// Who is on shift now.
    OnShift {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// A person's shifts.
    Shifts {
        #[arg(long)]
        person: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    #[command(subcommand)]
    Shift(timesheets::ShiftCmd),
    #[command(subcommand)]
    Week(timesheets::WeekCmd),
    #[command(subcommand)]
    Training(training::TrainingCmd),
    #[command(subcommand)]
    Cpo(cpo::CpoCmd),
    #[command(subcommand)]
    Note(notes::NoteCmd),
    #[command(subcommand)]
    Report(reports::ReportCmd),
    #[command(subcommand)]
    Export(reports::ExportCmd),
    /// The coop's settings (coordinators change them): pay period, retention.
    #[command(subcommand)]
    Settings(settings::SettingsCmd),
    /// What retention will erase on this device, and when (it erases what is due by
    /// itself whenever the logbook opens or syncs).
    Retention {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Throw away the cached tables and derive them again from the documents.
    Rebuild,
    /// Join a relay with a one-time code (works on an empty home).
    Join {
        /// The relay's address; several separated by commas are tried in order.
        #[arg(long, env = "LOGBOOK_RELAY")]
        relay: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "logbook cli")]
        device_name: String,
        /// The coop's time zone (IANA, e.g. Europe/London), used only if this device is
        /// the first coordinator of a new coop (default: this computer's time zone).
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Ask the relay for a one-time join code (coordinators).
    Invite {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The worker's person, or (repeat) the people a supporter is assigned to.
        #[arg(long)]
        person: Vec<String>,
        /// The kiosk's site.
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        expires_in_hours: Option<u32>,
    },
    /// Push and pull changes through the relay.
    Sync {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show this device's relay addresses, or replace them with --set (several,
    /// separated by commas: the next is tried when one is down or failing).
    Relays {
        #[arg(long)]
        set: Option<String>,
    },
    /// The coop's devices (coordinators).
    Devices {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke a lost device (coordinators).
    Revoke {
        #[arg(long)]
        device: String,
    },
    /// End the coop's migration from plaintext (coordinators): the relay takes only
    /// sealed blobs from then on. Refused, with counts, until every device has upgraded
    /// and re-sealed what it pushed (docs/SECURITY.md).
    SealCoop {
        /// First re-seal, as custodian, the plaintext left by revoked devices that never
        /// upgraded (their timesheets; docs/SECURITY.md, Migration from plaintext).
        #[arg(long)]
        custody: bool,
    },
    /// Whether coordinators may read a person's notes (the person or their supporter).
    Consent {
        #[arg(long)]
        person: String,
        #[arg(long, value_enum)]
        coordinator_notes: YesNo,
    },
    /// Clock a person in and out COUNT times, printing each punch id once it is durable
    /// (used by the crash-safety test).
    #[command(hide = true)]
    StressPunches {
        #[arg(long)]
        person: String,
        #[arg(long)]
        count: u32,
        /// Device time of the first punch, Unix seconds; one punch a minute after it.
        #[arg(long)]
        start: i64,
    },
    /// Run a whole coop's week on a relay inside this process and print the reports.
    Demo {
        /// Keep the demo's data here instead of a temporary directory (the stores are
        /// encrypted: set LOGBOOK_STORE_KEY to reopen them later with the same key).
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no backtrace, no personal data (core messages carry none).
            let mut msg = e.to_string();
            if let Some(cause) = e.chain().nth(1) {
                msg = format!("{msg}: {cause}");
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Demo { keep } = &cli.command {
        return demo::run(keep.clone());
    }
    let book = Logbook::open(&cli.home, &key::store_key(&cli.home)?)?;
    match cli.command {
        Command::Demo { .. } => unreachable!("handled above"),
        Command::Init {
            coop_name,
            timezone,
        } => directory::init(&book, &coop_name, &timezone)?,
        Command::Status { format } => device::status(&book, format)?,
        Command::People(cmd) => directory::people(&book, cmd)?,
        Command::Sites(cmd) => directory::sites(&book, cmd)?,
        Command::ClockIn(a) => timesheets::punch(&book, PunchKind::ClockIn, a)?,
        Command::ClockOut(a) => timesheets::punch(&book, PunchKind::ClockOut, a)?,
        Command::BreakStart(a) => timesheets::punch(&book, PunchKind::BreakStart, a)?,
        Command::BreakEnd(a) => timesheets::punch(&book, PunchKind::BreakEnd, a)?,
        Command::OnShift { format } => timesheets::on_shift(&book, format)?,
        Command::Shifts {
            person,
            from,
            to,
            format,
        } => timesheets::shifts(&book, &person, from.as_deref(), to.as_deref(), format)?,
        Command::Shift(cmd) => timesheets::shift(&book, cmd)?,
        Command::Week(cmd) => timesheets::week(&book, cmd)?,
        Command::Training(cmd) => training::run(&book, cmd)?,
        Command::Cpo(cmd) => cpo::run(&book, cmd)?,
        Command::Note(cmd) => notes::run(&book, cmd)?,
        Command::Report(cmd) => reports::run(&book, cmd)?,
        Command::Export(cmd) => reports::export(&book, cmd)?,
        Command::Settings(cmd) => settings::run(&book, cmd)?,
        Command::Retention { format } => settings::retention(&book, format)?,
        Command::StressPunches {
            person,
            count,
            start,
        } => timesheets::stress_punches(&book, &person, count, start)?,
        Command::Rebuild => device::rebuild(&book)?,
        Command::Join {
            relay,
            code,
            device_name,
            timezone,
        } => sync::join(&book, &relay, &code, &device_name, timezone.as_deref())?,
        Command::Invite {
            role,
            person,
            site,
            expires_in_hours,
        } => sync::invite(
            &book,
            sync::invite_grant(role, person, site)?,
            expires_in_hours,
        )?,
        Command::Sync { format } => sync::sync(&book, format)?,
        Command::Relays { set } => sync::relays(&book, set.as_deref())?,
        Command::Devices { format } => sync::devices(&book, format)?,
        Command::Revoke { device } => sync::revoke(&book, &device)?,
        Command::SealCoop { custody } => sync::seal_coop(&book, custody)?,
        Command::Consent {
            person,
            coordinator_notes,
        } => sync::consent(&book, &person, coordinator_notes)?,
    }
    Ok(())
}
