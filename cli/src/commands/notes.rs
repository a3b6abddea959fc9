//! `note add|reply|list|delete`, and who may read a person's notes: `note devices`,
//! `note approve`.

use anyhow::Result;
use clap::Subcommand;
use logbook_core::Logbook;
use logbook_core::protocol::Role;
use logbook_screens::worker::device_check_code;
use serde::Serialize;

use super::runtime;
use crate::output::{self, Format, print_json, print_rows};

#[derive(Subcommand)]
pub(crate) enum NoteCmd {
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
    /// The devices that could read a person's notes once approved on this device (the
    /// person's own, or a supporter's that holds their notes key): a supporter's new
    /// device, or another of the person's. Sync first to hear of new ones.
    Devices {
        #[arg(long)]
        about: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Let a device read a person's notes: compare its code with the one the device shows
    /// (`status` there) first. It can then read all their notes, old and new; the key goes
    /// with the sync this runs.
    Approve {
        #[arg(long)]
        about: String,
        /// The device's key (from `note devices`).
        #[arg(long)]
        device: String,
    },
}

#[derive(Serialize)]
struct NotesDeviceRow {
    device: String,
    code: String,
    who: &'static str,
    approved: bool,
}

pub(crate) fn run(book: &Logbook, cmd: NoteCmd) -> Result<()> {
    let notes = book.notes();
    match cmd {
        NoteCmd::Add { about, text } => println!("{}", notes.add_thread(&about, &text)?),
        NoteCmd::Reply { thread, text } => println!("{}", notes.reply(&thread, &text)?),
        NoteCmd::List { about, format } => {
            let threads = notes.threads(&about)?;
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
            notes.delete_thread(&thread)?;
            println!("erased thread {thread}");
        }
        NoteCmd::Devices { about, format } => {
            let rows: Vec<NotesDeviceRow> = book
                .sync()
                .notes_devices(&about)?
                .into_iter()
                .map(|d| NotesDeviceRow {
                    code: device_check_code(&d.device_key),
                    who: if d.role == Role::Supporter {
                        "supporter"
                    } else {
                        "their own device"
                    },
                    device: d.device_key,
                    approved: d.approved,
                })
                .collect();
            print_rows(format, &rows, &["DEVICE", "CODE", "WHO", "MAY READ"], |r| {
                vec![
                    r.device.clone(),
                    r.code.clone(),
                    r.who.to_string(),
                    if r.approved { "yes" } else { "asking" }.to_string(),
                ]
            });
        }
        NoteCmd::Approve { about, device } => {
            let sync = book.sync();
            sync.approve_notes_device(&about, &device)?;
            println!(
                "approved device {device} (code {}) to read these notes",
                device_check_code(&device)
            );
            match runtime()?.block_on(sync.run()) {
                Ok(_) => println!("synced: the device gets the key with its next sync"),
                Err(e) => {
                    println!("not synced yet ({e}); run `sync` when the relay can be reached")
                }
            }
        }
    }
    Ok(())
}
