//! `logbook demo`: a whole coop's week on a real relay, inside this process.
//!
//! A coordinator, three workers' phones and the café kiosk join a relay on a free loopback
//! port. The week is replayed with offline stretches (nobody syncs until Friday), a
//! phone-and-kiosk double punch and a forgotten clock-out; then everyone syncs and the
//! coordinator prints the hours report and a CPO progress line.

use std::path::PathBuf;

use anyhow::{Context, Result};
use logbook_core::protocol::{Grant, Role};
use logbook_core::{HourType, Logbook, PersonRole, PunchKind, PunchSource, StoreKey};

fn at(s: &str) -> Result<Option<i64>> {
    Ok(Some(
        s.parse::<jiff::Timestamp>()
            .context("demo time")?
            .as_second(),
    ))
}

pub fn run(keep: Option<PathBuf>) -> Result<()> {
    let tmp = tempfile::tempdir().context("could not create a temporary directory")?;
    let root = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    // The demo's stores are encrypted like any other, under a key made for this run.
    let key = crate::key::store_key_or_new()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(week(&root, &key))
}

async fn week(root: &std::path::Path, key: &StoreKey) -> Result<()> {
    let relay_dir = root.join("relay");
    let relay = logbook_relay::start(logbook_relay::RelayConfig::new(
        &relay_dir,
        "127.0.0.1:0".parse()?,
    ))
    .await?;
    let url = relay.url();
    println!("relay listening on {url} (data in {})", relay_dir.display());
    let coop = logbook_relay::admin::create_coop(&relay_dir, "Riverside Bakery Co-op")?;
    println!("created coop {} on the relay", coop.coop_id);

    // The coordinator sets up the coop, people, the kiosk's site and PINs.
    let coord = Logbook::open(root.join("coordinator"), key)?;
    coord
        .directory()
        .init("Riverside Bakery Co-op", "Europe/London")?;
    coord
        .sync()
        .join(&url, &coop.coordinator_code, "coordinator laptop")
        .await?;
    let bakery = coord.directory().add_site("Bakery")?;
    let site = std::slice::from_ref(&bakery);
    let aisha = coord
        .directory()
        .add_person("Aisha", &[PersonRole::Worker], site, true)?;
    let ben = coord
        .directory()
        .add_person("Ben", &[PersonRole::Worker], site, true)?;
    let carla = coord.directory().add_person(
        "Carla",
        &[PersonRole::Worker, PersonRole::Supporter],
        site,
        false,
    )?;
    for (p, pin) in [(&aisha, "1111"), (&ben, "2222"), (&carla, "3333")] {
        coord.directory().set_pin(p, pin)?;
    }
    coord.cpo().set_order(&ben, 60, "2026-11-02", None)?;
    coord.sync().run().await?;
    println!("coordinator added 3 workers, a site and Ben's 60-hour CPO");

    // Each worker's phone and the kiosk join with one-time codes.
    let mut phones = Vec::new();
    for (name, person) in [("Aisha", &aisha), ("Ben", &ben), ("Carla", &carla)] {
        let code = coord
            .sync()
            .invite(
                Grant {
                    role: Role::Worker,
                    person: Some(person.clone()),
                    site: None,
                    supports: vec![],
                },
                None,
            )
            .await?
            .code;
        let phone = Logbook::open(root.join(format!("phone-{name}")), key)?;
        phone
            .sync()
            .join(&url, &code, &format!("{name}'s phone"))
            .await?;
        phones.push((name, person.clone(), phone));
    }
    let code = coord
        .sync()
        .invite(
            Grant {
                role: Role::Kiosk,
                person: None,
                site: Some(bakery.clone()),
                supports: vec![],
            },
            None,
        )
        .await?
        .code;
    let kiosk = Logbook::open(root.join("kiosk"), key)?;
    kiosk.sync().join(&url, &code, "bakery kiosk").await?;
    println!("3 phones and the kiosk joined; everyone now works offline until Friday");

    let phone = |who: &str| {
        &phones
            .iter()
            .find(|(n, _, _)| *n == who)
            .expect("demo phone")
            .2
    };
    let tap = |book: &Logbook, person: &str, kind, when: &str, t: Option<HourType>| -> Result<()> {
        book.timesheets()
            .punch(person, kind, at(when)?, t, None, PunchSource::Phone)?;
        Ok(())
    };
    let kiosk_tap =
        |person: &str, pin: &str, kind, when: &str, t: Option<HourType>| -> Result<()> {
            kiosk.kiosk().punch(person, pin, kind, at(when)?, t)?;
            Ok(())
        };
    use PunchKind::*;
    // Monday to Friday, 16-20 November 2026 (GMT).
    for day in 16..=20 {
        let d = |hm: &str| format!("2026-11-{day}T{hm}:00Z");
        // Aisha: kiosk mornings; on Monday she also taps her phone (a double punch).
        kiosk_tap(&aisha, "1111", ClockIn, &d("08:58"), Some(HourType::Paid))?;
        if day == 16 {
            tap(
                phone("Aisha"),
                &aisha,
                ClockIn,
                &d("09:01"),
                Some(HourType::Paid),
            )?;
        }
        kiosk_tap(&aisha, "1111", BreakStart, &d("12:30"), None)?;
        kiosk_tap(&aisha, "1111", BreakEnd, &d("13:00"), None)?;
        kiosk_tap(&aisha, "1111", ClockOut, &d("17:00"), None)?;
        if day == 16 {
            tap(phone("Aisha"), &aisha, ClockOut, &d("17:02"), None)?;
        }
        // Ben: CPO unpaid work on his phone, 4 hours a day; training on Friday.
        let kind = if day == 20 {
            HourType::CpoOtherActivity
        } else {
            HourType::CpoUnpaidWork
        };
        tap(phone("Ben"), &ben, ClockIn, &d("10:00"), Some(kind))?;
        tap(phone("Ben"), &ben, ClockOut, &d("14:00"), None)?;
        // Carla: volunteer shifts; on Wednesday she forgets to clock out.
        tap(
            phone("Carla"),
            &carla,
            ClockIn,
            &d("07:00"),
            Some(HourType::Volunteer),
        )?;
        if day != 18 {
            tap(phone("Carla"), &carla, ClockOut, &d("11:00"), None)?;
        }
    }
    println!("replayed Monday-Friday: 1 phone-and-kiosk double punch, 1 forgotten clock-out");

    // Friday evening: everyone finds a signal.
    let k = kiosk.sync().run().await?;
    println!("kiosk synced: pushed {} changes", k.pushed_changes);
    for (name, _, book) in &phones {
        let s = book.sync().run().await?;
        println!(
            "{name}'s phone synced: pushed {} changes, pulled {} blobs",
            s.pushed_changes, s.pulled_blobs
        );
    }
    let s = coord.sync().run().await?;
    println!(
        "coordinator synced: pulled {} blobs, {} duplicates recognised",
        s.pulled_blobs, s.duplicates_found
    );
    for (_, _, book) in &phones {
        book.sync().run().await?;
    }

    // Every device derives the same shifts.
    for (name, person, book) in &phones {
        let mine = book
            .timesheets()
            .shifts(person, Some("2026-11-16"), Some("2026-11-20"))?;
        let theirs = coord
            .timesheets()
            .shifts(person, Some("2026-11-16"), Some("2026-11-20"))?;
        anyhow::ensure!(
            mine == theirs,
            "{name}'s phone and the coordinator disagree"
        );
    }
    let review = coord
        .timesheets()
        .shifts(&carla, Some("2026-11-18"), Some("2026-11-18"))?
        .into_iter()
        .filter(|s| s.status == logbook_core::ShiftStatus::NeedsReview)
        .count();
    println!(
        "all phones agree with the coordinator; Carla's Wednesday shift needs review ({review})"
    );

    println!("\nHours, 16-20 November 2026 (coordinator):");
    print!("{}", coord.reports().hours_csv("2026-11-16", "2026-11-20")?);
    for p in coord.cpo().progress(&ben)? {
        println!(
            "\nCPO progress, Ben: {}h ordered, {}:{:02} done ({}:{:02} other activity counted of a {}h cap), {}:{:02} left, {} days to the {} deadline, {}",
            p.hours_ordered,
            p.done_minutes / 60,
            p.done_minutes % 60,
            p.other_activity_counted_minutes / 60,
            p.other_activity_counted_minutes % 60,
            p.other_activity_cap_minutes / 60,
            p.left_minutes / 60,
            p.left_minutes % 60,
            p.days_to_deadline,
            p.deadline,
            if p.complete {
                "complete"
            } else if p.on_track {
                "on track"
            } else {
                "behind"
            }
        );
    }
    relay.shutdown().await;
    Ok(())
}
