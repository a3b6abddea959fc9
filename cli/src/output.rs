//! Printing: aligned tables for people, JSON for scripts.

use clap::ValueEnum;
use serde::Serialize;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Table,
    Json,
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: could not print JSON: {e}"),
    }
}

/// Print `items` as JSON (their own serialisation) or as a table with `columns`.
pub fn print_rows<T: Serialize>(
    format: Format,
    items: &[T],
    columns: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) {
    if format == Format::Json {
        print_json(items);
        return;
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_string()).collect());
    for r in rows {
        line(r);
    }
    if items.is_empty() {
        println!("(none)");
    }
}

/// Seconds as `h:mm`.
pub fn hm(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

pub fn utc(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// A time in the coop's zone, e.g. `2026-11-23 09:00`.
pub fn local_time(at: i64, tz: &str) -> String {
    match (
        jiff::Timestamp::from_second(at),
        jiff::tz::TimeZone::get(tz),
    ) {
        (Ok(t), Ok(z)) => t.to_zoned(z).strftime("%Y-%m-%d %H:%M").to_string(),
        _ => at.to_string(),
    }
}
