//! `init`, `people …`, `sites …`: the coop, its people and sites.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use logbook_core::{Logbook, PersonRole};

use super::YesNo;
use crate::output::{Format, print_rows};

#[derive(Subcommand)]
pub(crate) enum PeopleCmd {
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
    /// Set a person's payroll number (for the payroll export); `--clear` removes it.
    SetPayrollNumber {
        #[arg(long)]
        person: String,
        #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
        number: Option<String>,
        #[arg(long)]
        clear: bool,
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
pub(crate) enum PersonRoleArg {
    Worker,
    Supporter,
    Coordinator,
}

#[derive(Subcommand)]
pub(crate) enum SitesCmd {
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

pub(crate) fn init(book: &Logbook, coop_name: &str, timezone: &str) -> Result<()> {
    book.directory().init(coop_name, timezone)?;
    println!("initialised {coop_name} ({timezone})");
    Ok(())
}

pub(crate) fn sites(book: &Logbook, cmd: SitesCmd) -> Result<()> {
    match cmd {
        SitesCmd::Add { name } => println!("{}", book.directory().add_site(&name)?),
        SitesCmd::List { format } => {
            let sites = book.directory().sites()?;
            print_rows(format, &sites, &["id", "name"], |s| {
                vec![s.id.clone(), s.name.clone()]
            });
        }
    }
    Ok(())
}

pub(crate) fn people(book: &Logbook, cmd: PeopleCmd) -> Result<()> {
    let directory = book.directory();
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
            println!(
                "{}",
                directory.add_person(&name, &roles, &site, disadvantaged)?
            );
        }
        PeopleCmd::List { format } => {
            let people = directory.people()?;
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
            directory.set_pin(&person, &pin)?;
            println!("PIN set");
        }
        PeopleCmd::AssignSite { person, site } => {
            directory.assign_site(&person, &site)?;
            println!("assigned");
        }
        PeopleCmd::SetPayrollNumber {
            person,
            number,
            clear: _,
        } => {
            directory.set_payroll_number(&person, number.as_deref())?;
            println!("recorded");
        }
        PeopleCmd::SetDisadvantaged { person, value } => {
            directory.set_disadvantaged(&person, value == YesNo::Yes)?;
            println!("recorded");
        }
    }
    Ok(())
}
