//! One file per feature of the core, each with its commands' arguments and a `run` that
//! calls the core and prints. Rules live in the core, not here: the CLI parses and
//! prints, nothing else.

pub(crate) mod cpo;
pub(crate) mod device;
pub(crate) mod directory;
pub(crate) mod notes;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod sync;
pub(crate) mod timesheets;
pub(crate) mod training;

use anyhow::{Context, Result};
use clap::ValueEnum;
use logbook_core::HourType;

use crate::output::{Format, print_json};

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub(crate) enum YesNo {
    Yes,
    No,
}

/// A runtime for the commands that talk to the relay.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// A time as typed: RFC 3339.
pub(crate) fn parse_at(at: &Option<String>) -> Result<Option<i64>> {
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

pub(crate) fn parse_type(t: &Option<String>) -> Result<Option<HourType>> {
    Ok(t.as_deref().map(str::parse).transpose()?)
}

pub(crate) fn print_json_or_kv(format: Format, v: &serde_json::Value) {
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
