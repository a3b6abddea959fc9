//! `note add|reply|list|delete`.

use anyhow::Result;
use clap::Subcommand;
use logbook_core::Logbook;

use crate::output::{self, Format, print_json};

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
    }
    Ok(())
}
