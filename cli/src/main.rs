//! `logbook`: the Co-op Logbook command-line client, for coordinators, operators,
//! scripts and the demo. Every command works on one device's store (`--home`).
//!
//! Errors print one line on stderr and exit 1; nothing is written when a command fails.

mod demo;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use logbook_core::protocol::{Grant, Role};
use logbook_core::{
    HourType, Logbook, NewTraining, PersonRole, PunchKind, PunchSource, ShiftCorrection,
};

use output::{Format, print_json, print_rows};

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
    People(PeopleCmd),
    #[command(subcommand)]
    Sites(SitesCmd),
    /// Clock a person in.
    ClockIn(PunchArgs),
    /// Clock a person out.
    ClockOut(PunchArgs),
    /// Start a break.
    BreakStart(PunchArgs),
    /// End a break.
    BreakEnd(PunchArgs),
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
    Shift(ShiftCmd),
    #[command(subcommand)]
    Week(WeekCmd),
    #[command(subcommand)]
    Training(TrainingCmd),
    #[command(subcommand)]
    Cpo(CpoCmd),
    #[command(subcommand)]
    Note(NoteCmd),
    #[command(subcommand)]
    Report(ReportCmd),
    #[command(subcommand)]
    Export(ExportCmd),
    /// Throw away the cached tables and derive them again from the documents.
    Rebuild,
    /// Join a relay with a one-time code (works on an empty home).
    Join {
        #[arg(long, env = "LOGBOOK_RELAY")]
        relay: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "logbook cli")]
        device_name: String,
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
        /// Keep the demo's data here instead of a temporary directory.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Coordinator,
    Worker,
    Supporter,
    Kiosk,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum YesNo {
    Yes,
    No,
}

#[derive(Subcommand)]
enum PeopleCmd {
    /// Add a person; prints the new id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Vec<PersonRoleArg>,
        #[arg(long)]
        site: Vec<String>,
        /// Counts as disadvantaged for the head-count ratio (Law 381/1991).
        #[arg(long)]
        disadvantaged: bool,
    },
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Set a person's 4-digit kiosk PIN.
    SetPin {
        #[arg(long)]
        person: String,
        #[arg(long)]
        pin: String,
    },
    /// Add a person to a site (and its kiosk).
    AssignSite {
        #[arg(long)]
        person: String,
        #[arg(long)]
        site: String,
    },
    /// Record whether a person counts as disadvantaged.
    SetDisadvantaged {
        #[arg(long)]
        person: String,
        #[arg(long, value_enum)]
        value: YesNo,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PersonRoleArg {
    Worker,
    Supporter,
    Coordinator,
}

#[derive(Subcommand)]
enum SitesCmd {
    /// Add a site; prints the new id.
    Add {
        #[arg(long)]
        name: String,
    },
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Args)]
struct PunchArgs {
    #[arg(long)]
    person: String,
    /// Hour type (clock-in only): paid, volunteer, cpo_unpaid_work, cpo_other_activity, training.
    #[arg(long = "type")]
    hour_type: Option<String>,
    #[arg(long)]
    site: Option<String>,
    /// Device time of the tap, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// The person's kiosk PIN (required on a kiosk).
    #[arg(long)]
    pin: Option<String>,
}

#[derive(Subcommand)]
enum ShiftCmd {
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
enum WeekCmd {
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

#[derive(Subcommand)]
enum TrainingCmd {
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

#[derive(Subcommand)]
enum CpoCmd {
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
    /// Erase an order and its history (e.g. when the conviction is spent).
    Purge {
        #[arg(long)]
        person: String,
        #[arg(long)]
        order: String,
    },
}

#[derive(Subcommand)]
enum NoteCmd {
    /// Start a note thread about a person; prints the thread id.
    Add {
        #[arg(long)]
        about: String,
        #[arg(long)]
        text: String,
    },
    /// Add to a thread; prints the entry id.
    Reply {
        #[arg(long)]
        thread: String,
        #[arg(long)]
        text: String,
    },
    List {
        #[arg(long)]
        about: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Erase a thread, its history included, here and (after sync) everywhere.
    Delete {
        #[arg(long)]
        thread: String,
    },
}

#[derive(Subcommand)]
enum ReportCmd {
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
enum ReportFormat {
    Csv,
    Json,
    Table,
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Everything held about a person, as readable JSON (subject access).
    Person {
        #[arg(long)]
        person: String,
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

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

fn parse_at(at: &Option<String>) -> Result<Option<i64>> {
    at.as_deref()
        .map(|s| {
            s.parse::<jiff::Timestamp>()
                .map(|t| t.as_second())
                .map_err(|_| {
                    anyhow::anyhow!("times are written RFC 3339, e.g. 2026-11-23T09:00:00Z")
                })
        })
        .transpose()
}

fn parse_type(t: &Option<String>) -> Result<Option<HourType>> {
    Ok(t.as_deref().map(str::parse).transpose()?)
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Demo { keep } = &cli.command {
        return demo::run(keep.clone());
    }
    let book = Logbook::open(&cli.home)?;
    match cli.command {
        Command::Demo { .. } => unreachable!("handled above"),
        Command::Init {
            coop_name,
            timezone,
        } => {
            book.init(&coop_name, &timezone)?;
            println!("initialised {coop_name} ({timezone})");
        }
        Command::Status { format } => {
            let coop = book.coop().ok();
            let grant = book.grant()?;
            let v = serde_json::json!({
                "coop": coop.as_ref().map(|c| &c.name),
                "timezone": coop.as_ref().map(|c| &c.timezone),
                "device": book.device_key(),
                "role": grant.as_ref().map(|g| g.role.as_str()).unwrap_or("standalone"),
                "person": grant.as_ref().and_then(|g| g.person.clone()),
                "site": grant.as_ref().and_then(|g| g.site.clone()),
                "pending_changes": book.pending_changes()?,
            });
            print_json_or_kv(format, &v);
        }
        Command::People(cmd) => people(&book, cmd)?,
        Command::Sites(SitesCmd::Add { name }) => println!("{}", book.add_site(&name)?),
        Command::Sites(SitesCmd::List { format }) => {
            let sites = book.sites()?;
            print_rows(format, &sites, &["id", "name"], |s| {
                vec![s.id.clone(), s.name.clone()]
            });
        }
        Command::ClockIn(a) => punch(&book, PunchKind::ClockIn, a)?,
        Command::ClockOut(a) => punch(&book, PunchKind::ClockOut, a)?,
        Command::BreakStart(a) => punch(&book, PunchKind::BreakStart, a)?,
        Command::BreakEnd(a) => punch(&book, PunchKind::BreakEnd, a)?,
        Command::OnShift { format } => {
            let people = book.on_shift()?;
            print_rows(format, &people, &["person_id", "name"], |s| {
                vec![s.id.clone(), s.name.clone()]
            });
        }
        Command::Shifts {
            person,
            from,
            to,
            format,
        } => {
            let tz = book
                .coop()
                .map(|c| c.timezone)
                .unwrap_or_else(|_| "UTC".into());
            let shifts = book.shifts(&person, from.as_deref(), to.as_deref())?;
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
        }
        Command::Shift(ShiftCmd::Correct {
            shift,
            start,
            end,
            hour_type,
            break_minutes,
            void,
            reason,
        }) => {
            let id = book.correct_shift(
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
        Command::Shift(ShiftCmd::History { shift, format }) => {
            let h = book.shift_history(&shift)?;
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
        Command::Week(WeekCmd::Approve { date, person }) => {
            let ids = book.review_week(&date, &person, false)?;
            println!("approved the week of {date} for {} people", ids.len());
        }
        Command::Week(WeekCmd::Lock { date, person }) => {
            let ids = book.review_week(&date, &person, true)?;
            println!("locked the week of {date} for {} people", ids.len());
        }
        Command::Training(cmd) => training(&book, cmd)?,
        Command::Cpo(CpoCmd::Set {
            person,
            hours,
            start,
            deadline,
        }) => {
            println!(
                "{}",
                book.set_cpo(&person, hours, &start, deadline.as_deref())?
            );
        }
        Command::Cpo(CpoCmd::Show { person, format }) => {
            let progress = book.cpo_progress(&person)?;
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
        Command::Cpo(CpoCmd::Purge { person, order }) => {
            book.purge_cpo(&person, &order)?;
            println!("erased order {order}");
        }
        Command::Note(cmd) => notes(&book, cmd)?,
        Command::Report(ReportCmd::Hours { from, to, format }) => match format {
            ReportFormat::Csv => print!("{}", book.hours_report_csv(&from, &to)?),
            ReportFormat::Json => print_json(&book.hours_report(&from, &to)?),
            ReportFormat::Table => {
                let rows = book.hours_report(&from, &to)?;
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
        Command::Report(ReportCmd::Ratio { from, to, format }) => {
            let r = book.ratio_report(&from, &to)?;
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
        Command::Export(ExportCmd::Person { person }) => {
            let v = book.export_person(&person)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Command::StressPunches {
            person,
            count,
            start,
        } => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for i in 0..i64::from(count) {
                let kind = if i % 2 == 0 {
                    PunchKind::ClockIn
                } else {
                    PunchKind::ClockOut
                };
                let id = book.punch(
                    &person,
                    kind,
                    Some(start + i * 60),
                    None,
                    None,
                    PunchSource::Coordinator,
                )?;
                // Acknowledged: the punch is committed and fsynced before this line exists.
                writeln!(out, "{id}")?;
                out.flush()?;
            }
        }
        Command::Rebuild => {
            let s = book.rebuild()?;
            println!(
                "rebuilt the cache from {} documents in {} ms",
                s.documents, s.millis
            );
        }
        Command::Join {
            relay,
            code,
            device_name,
        } => {
            let info = runtime()?.block_on(book.join(&relay, &code, &device_name))?;
            println!(
                "joined {} as {} (device {})",
                info.coop_name, info.role, info.device_id
            );
        }
        Command::Invite {
            role,
            person,
            site,
            expires_in_hours,
        } => {
            let grant = match role {
                RoleArg::Coordinator => Grant {
                    role: Role::Coordinator,
                    person: person.first().cloned(),
                    site: None,
                    supports: vec![],
                },
                RoleArg::Worker => {
                    let [p] = person.as_slice() else {
                        bail!("a worker invite needs exactly one --person")
                    };
                    Grant {
                        role: Role::Worker,
                        person: Some(p.clone()),
                        site: None,
                        supports: vec![],
                    }
                }
                RoleArg::Supporter => {
                    if person.is_empty() {
                        bail!("a supporter invite needs at least one --person they support");
                    }
                    Grant {
                        role: Role::Supporter,
                        person: None,
                        site: None,
                        supports: person,
                    }
                }
                RoleArg::Kiosk => {
                    let Some(s) = site else {
                        bail!("a kiosk invite needs --site")
                    };
                    Grant {
                        role: Role::Kiosk,
                        person: None,
                        site: Some(s),
                        supports: vec![],
                    }
                }
            };
            let invite = runtime()?.block_on(book.invite(grant, expires_in_hours))?;
            println!("{}", invite.code);
        }
        Command::Sync { format } => {
            let s = runtime()?.block_on(book.sync())?;
            match format {
                Format::Json => print_json(&s),
                Format::Table => println!(
                    "pushed {} changes in {} blobs, pulled {} blobs, erased {} documents, {} duplicates found, {} held back, {} retries",
                    s.pushed_changes,
                    s.pushed_blobs,
                    s.pulled_blobs,
                    s.erased_documents,
                    s.duplicates_found,
                    s.held_back,
                    s.retries
                ),
            }
        }
        Command::Devices { format } => {
            let devices = runtime()?.block_on(book.devices())?;
            print_rows(
                format,
                &devices,
                &[
                    "device_id",
                    "name",
                    "role",
                    "person",
                    "site",
                    "last_seen",
                    "revoked",
                ],
                |d| {
                    vec![
                        d.device_id.clone(),
                        d.name.clone(),
                        d.grant.role.as_str().into(),
                        d.grant
                            .person
                            .clone()
                            .unwrap_or_else(|| d.grant.supports.join(" ")),
                        d.grant.site.clone().unwrap_or_default(),
                        d.last_seen_at
                            .map(output::utc)
                            .unwrap_or_else(|| "never".into()),
                        if d.revoked {
                            "revoked".into()
                        } else {
                            "active".into()
                        },
                    ]
                },
            );
        }
        Command::Revoke { device } => {
            runtime()?.block_on(book.revoke_device(&device))?;
            println!("revoked {device}");
        }
        Command::Consent {
            person,
            coordinator_notes,
        } => {
            let yes = coordinator_notes == YesNo::Yes;
            runtime()?.block_on(book.set_consent(&person, yes))?;
            println!(
                "coordinators {} read notes about {person}",
                if yes { "may" } else { "may not" }
            );
        }
    }
    Ok(())
}

fn print_json_or_kv(format: Format, v: &serde_json::Value) {
    match format {
        Format::Json => print_json(v),
        Format::Table => {
            if let Some(o) = v.as_object() {
                for (k, v) in o {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "-".into(),
                        other => other.to_string(),
                    };
                    println!("{k}: {v}");
                }
            }
        }
    }
}

fn people(book: &Logbook, cmd: PeopleCmd) -> Result<()> {
    match cmd {
        PeopleCmd::Add {
            name,
            role,
            site,
            disadvantaged,
        } => {
            let roles: Vec<PersonRole> = role
                .into_iter()
                .map(|r| match r {
                    PersonRoleArg::Worker => PersonRole::Worker,
                    PersonRoleArg::Supporter => PersonRole::Supporter,
                    PersonRoleArg::Coordinator => PersonRole::Coordinator,
                })
                .collect();
            println!("{}", book.add_person(&name, &roles, &site, disadvantaged)?);
        }
        PeopleCmd::List { format } => {
            let people = book.people()?;
            print_rows(
                format,
                &people,
                &["id", "name", "roles", "sites", "pin"],
                |p| {
                    vec![
                        p.id.clone(),
                        p.name.clone(),
                        p.roles
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        p.site_ids.join(","),
                        if p.has_pin { "set".into() } else { "-".into() },
                    ]
                },
            );
        }
        PeopleCmd::SetPin { person, pin } => {
            book.set_pin(&person, &pin)?;
            println!("PIN set");
        }
        PeopleCmd::AssignSite { person, site } => {
            book.assign_site(&person, &site)?;
            println!("assigned");
        }
        PeopleCmd::SetDisadvantaged { person, value } => {
            book.set_disadvantaged(&person, value == YesNo::Yes)?;
            println!("recorded");
        }
    }
    Ok(())
}

fn punch(book: &Logbook, kind: PunchKind, a: PunchArgs) -> Result<()> {
    let at = parse_at(&a.at)?;
    let hour_type = parse_type(&a.hour_type)?;
    if hour_type.is_some() && kind != PunchKind::ClockIn {
        bail!("--type is chosen at clock-in");
    }
    let kiosk = book.grant()?.is_some_and(|g| g.role == Role::Kiosk);
    let id = match (&a.pin, kiosk) {
        (Some(pin), _) => book.kiosk_punch(&a.person, pin, kind, at, hour_type)?,
        (None, true) => bail!("on a kiosk every tap needs the person's --pin"),
        (None, false) => {
            let source = book.punch_source()?;
            book.punch(&a.person, kind, at, hour_type, a.site.as_deref(), source)?
        }
    };
    println!("{id}");
    Ok(())
}

fn training(book: &Logbook, cmd: TrainingCmd) -> Result<()> {
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
            if !(0.0..=720.0).contains(&hours) || hours.is_nan() {
                bail!("training hours must be between 0 and 720");
            }
            let date = match date {
                Some(d) => d,
                None => book.today()?.to_string(),
            };
            let id = book.add_training(NewTraining {
                person_id: person,
                course,
                date,
                minutes: (hours * 60.0).round() as u32,
                provider,
                certificate_ref: certificate,
                expires_on: expires,
                trainee_signed,
                supervisor_signed,
            })?;
            println!("{id}");
        }
        TrainingCmd::List { person, format } => {
            let records = book.training(&person)?;
            training_rows(format, &records);
        }
        TrainingCmd::Expiring { within, format } => {
            let records = book.training_expiring(within)?;
            training_rows(format, &records);
        }
        TrainingCmd::Courses { format } => {
            let courses = book.courses()?;
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
        } => println!("{}", book.add_course(&name, review_months)?),
        TrainingCmd::Induction {
            person,
            item,
            trainee_signed,
            supervisor_signed,
        } => {
            if !trainee_signed && !supervisor_signed {
                bail!("say who signs: --trainee-signed and/or --supervisor-signed");
            }
            println!(
                "{}",
                book.sign_induction(&person, &item, trainee_signed, supervisor_signed)?
            );
        }
    }
    Ok(())
}

fn training_rows(format: Format, records: &[logbook_core::TrainingRecord]) {
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

fn notes(book: &Logbook, cmd: NoteCmd) -> Result<()> {
    match cmd {
        NoteCmd::Add { about, text } => println!("{}", book.add_note(&about, &text)?),
        NoteCmd::Reply { thread, text } => println!("{}", book.reply_note(&thread, &text)?),
        NoteCmd::List { about, format } => {
            let threads = book.notes(&about)?;
            match format {
                Format::Json => print_json(&threads),
                Format::Table => {
                    for t in &threads {
                        println!("thread {} ({})", t.id, output::utc(t.created_at));
                        for e in &t.entries {
                            println!("  [{}] {}: {}", output::utc(e.created_at), e.author, e.text);
                        }
                    }
                }
            }
        }
        NoteCmd::Delete { thread } => {
            book.delete_note_thread(&thread)?;
            println!("erased thread {thread}");
        }
    }
    Ok(())
}
