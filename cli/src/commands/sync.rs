//! `join`, `invite`, `sync`, `devices`, `revoke`, `consent`: everything that talks to the
//! relay.

use anyhow::{Result, bail};
use clap::ValueEnum;
use logbook_core::Logbook;
use logbook_core::protocol::{Grant, Role};

use super::{YesNo, runtime};
use crate::output::{self, Format, print_json, print_rows};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Coordinator,
    Worker,
    Supporter,
    Kiosk,
}

pub(crate) fn join(
    book: &Logbook,
    relay: &str,
    code: &str,
    device_name: &str,
    timezone: Option<&str>,
) -> Result<()> {
    let info = runtime()?.block_on(book.sync().join_with(relay, code, device_name, timezone))?;
    println!(
        "joined {} as {} (device {})",
        info.coop_name, info.role, info.device_id
    );
    if info.started_coop {
        println!(
            "started the coop's directory (time zone {}): add sites and people next",
            info.timezone.as_deref().unwrap_or("UTC")
        );
    }
    if let Some(why) = info.sync_error {
        println!("not synced yet ({why}); run `sync` when the relay can be reached");
    }
    Ok(())
}

/// The grant an invite asks for, from the command line's shape. The core checks it
/// against the same rules as the relay.
pub(crate) fn invite_grant(
    role: RoleArg,
    person: Vec<String>,
    site: Option<String>,
) -> Result<Grant> {
    Ok(match role {
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
        RoleArg::Supporter => Grant {
            role: Role::Supporter,
            person: None,
            site: None,
            supports: person,
        },
        RoleArg::Kiosk => Grant {
            role: Role::Kiosk,
            person: None,
            site,
            supports: vec![],
        },
    })
}

pub(crate) fn invite(book: &Logbook, grant: Grant, expires_in_hours: Option<u32>) -> Result<()> {
    let invite = runtime()?.block_on(book.sync().invite(grant, expires_in_hours))?;
    println!("{}", invite.code);
    Ok(())
}

pub(crate) fn seal_coop(book: &Logbook, custody: bool) -> Result<()> {
    let rt = runtime()?;
    if custody {
        let n = rt.block_on(book.sync().custody_reseal())?;
        println!("re-sealed {n} document(s) of revoked devices as custodian");
    }
    rt.block_on(book.sync().seal_coop())?;
    println!("the coop is sealed only: the relay takes no plaintext from now on");
    Ok(())
}

pub(crate) fn sync(book: &Logbook, format: Format) -> Result<()> {
    let s = runtime()?.block_on(book.sync().run())?;
    // What arrived may be due for retention (or carry payroll numbers to move): erased
    // here now, and the erasures go to the relay with the next sync.
    book.housekeeping();
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
    Ok(())
}

/// Prints the relay addresses, in the order they are tried (after replacing them with
/// `set`, if given).
pub(crate) fn relays(book: &Logbook, set: Option<&str>) -> Result<()> {
    let urls = match set {
        Some(list) => book.sync().set_relay_urls(list)?,
        None => book.sync().relay_urls()?,
    };
    if urls.is_empty() {
        println!("not joined to a relay");
    }
    for url in urls {
        println!("{url}");
    }
    Ok(())
}

pub(crate) fn devices(book: &Logbook, format: Format) -> Result<()> {
    let devices = runtime()?.block_on(book.sync().devices())?;
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
    Ok(())
}

pub(crate) fn revoke(book: &Logbook, device: &str) -> Result<()> {
    let brought_in = runtime()?.block_on(book.sync().revoke_device(device))?;
    println!("revoked {device}; the keys it could read were rotated");
    if brought_in.is_empty() {
        println!("it brought in no devices");
    } else {
        println!("devices it brought in (review them; revoke any you do not recognise):");
        for d in brought_in {
            println!(
                "  {}  {}  {}",
                d.device_id,
                d.name,
                if d.revoked { "revoked" } else { "active" }
            );
        }
    }
    Ok(())
}

pub(crate) fn consent(book: &Logbook, person: &str, coordinator_notes: YesNo) -> Result<()> {
    let yes = coordinator_notes == YesNo::Yes;
    runtime()?.block_on(book.notes().set_consent(person, yes))?;
    println!(
        "coordinators {} read notes about {person}",
        if yes { "may" } else { "may not" }
    );
    Ok(())
}
