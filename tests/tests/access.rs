//! The access table (docs/DOMAIN.md), enforced by the relay: every row checked with raw HTTP
//! using each device's own token, plus the consent rules for coordinators and notes.

use logbook_e2e::logbook_core::{Error, PersonRole};
use logbook_e2e::{Coop, Pulled, Raw, supporter_grant};
use reqwest::StatusCode;

/// The scope part of a document id.
fn scope(doc: &str) -> &str {
    doc.split('/').next().unwrap_or_default()
}

/// Pushes that must be refused whole with 403, and leave the log untouched.
async fn assert_forbidden(who: &str, raw: &Raw, docs: &[(&str, &[u8])]) {
    let (status, _) = raw.push(docs).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "{who} pushing {:?}",
        docs.iter().map(|d| d.0).collect::<Vec<_>>()
    );
}

async fn assert_allowed(who: &str, raw: &Raw, doc: &str) {
    let (status, body) = raw
        .push(&[(doc, format!("e2e blob {doc}").as_bytes())])
        .await;
    assert_eq!(status, StatusCode::OK, "{who} pushing {doc}");
    assert_eq!(body.expect("push answer").stored, 1, "{who} pushing {doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_table_is_enforced_by_the_relay() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let (a, b) = (aisha.person.as_str(), ben.person.as_str());
    let supporter = coop
        .join_device(&supporter_grant(&[a]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, a, &supporter).await;
    // A second site with its own roster, which the kiosk must never see.
    let cafe = coop
        .coordinator
        .directory()
        .add_site("Cafe")
        .expect("add site");
    let dana = coop
        .coordinator
        .directory()
        .add_person(
            "Dana",
            &[PersonRole::Worker],
            std::slice::from_ref(&cafe),
            false,
        )
        .expect("add person");
    coop.coordinator
        .directory()
        .set_pin(&dana, "4444")
        .expect("PIN");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    for book in [&aisha.phone, &ben.phone, &coop.kiosk, &supporter] {
        book.sync().run().await.expect("sync");
    }

    let coord = coop.raw(&coop.coordinator);
    let worker = coop.raw(&aisha.phone);
    let kiosk = coop.raw(&coop.kiosk);
    let sup = coop.raw(&supporter);
    let end = coord.pull_all(0, None).await.next;

    // ---- forbidden writes: 403, and nothing stored ----
    let ts_b = format!("timesheet:{b}/2026-11/d-e2e");
    let ts_a = format!("timesheet:{a}/2026-11/d-e2e");
    let notes_a = format!("notes:{a}/n-e2e");
    let notes_b = format!("notes:{b}/n-e2e");
    let records_a = format!("records:{a}/training");
    let review_a = format!("review:{a}/2026/d-e2e");
    let roster = format!("site:{}/roster", coop.site);
    let x: &[u8] = b"forbidden bytes";
    for doc in [
        &ts_b,
        "directory/main",
        &review_a,
        &records_a,
        &notes_b,
        &roster,
    ] {
        assert_forbidden("worker", &worker, &[(doc, x)]).await;
    }
    for doc in [&notes_a, &records_a, "directory/main", &roster, &review_a] {
        assert_forbidden("kiosk", &kiosk, &[(doc, x)]).await;
    }
    assert_forbidden("coordinator", &coord, &[(&notes_a, x)]).await;
    for doc in [&notes_b, &ts_a, "directory/main", &records_a] {
        assert_forbidden("supporter", &sup, &[(doc, x)]).await;
    }
    // One forbidden document refuses the whole batch, its allowed part included.
    assert_forbidden("worker", &worker, &[(&ts_a, x), (&ts_b, x)]).await;
    let after = coord.pull_all(end, None).await;
    assert!(after.docs.is_empty(), "nothing was stored: {after:?}");
    assert_eq!(after.next, end, "the log did not grow");

    // ---- allowed writes (document ids no app version interprets, so the devices'
    // stores skip them) ----
    assert_allowed("worker", &worker, &format!("timesheet:{a}/e2e/raw/1")).await;
    assert_allowed("worker", &worker, &format!("notes:{a}/e2e/raw")).await;
    assert_allowed("kiosk", &kiosk, &format!("timesheet:{b}/e2e/raw/1")).await;
    assert_allowed("coordinator", &coord, &format!("records:{a}/e2e/raw")).await;
    assert_allowed("coordinator", &coord, &format!("review:{b}/e2e/raw/1")).await;
    assert_allowed("supporter", &sup, &format!("notes:{a}/e2e/raw/2")).await;
    let after = coord.pull_all(end, None).await;
    let mut seen = after.docs.clone();
    seen.sort();
    let mut expected = vec![
        format!("records:{a}/e2e/raw"),
        format!("review:{b}/e2e/raw/1"),
        format!("timesheet:{a}/e2e/raw/1"),
        format!("timesheet:{b}/e2e/raw/1"),
    ];
    expected.sort();
    assert_eq!(seen, expected, "the coordinator reads all but the notes");

    // ---- pulls never return forbidden scopes ----
    let k = kiosk.pull_all(0, None).await;
    assert!(!k.docs.is_empty());
    for doc in &k.docs {
        assert_eq!(
            scope(doc),
            format!("site:{}", coop.site),
            "kiosk pulled {doc}"
        );
    }
    assert!(k.notes_readable.is_empty());
    let w = worker.pull_all(0, None).await;
    assert!(w.docs.iter().any(|d| d == "directory/main"));
    for doc in &w.docs {
        let s = scope(doc);
        assert!(
            s == "directory" || s.ends_with(&format!(":{a}")),
            "worker pulled {doc}"
        );
        assert!(!s.starts_with("site:"), "worker pulled {doc}");
    }
    assert_eq!(w.notes_readable, vec![a.to_string()]);
    let s = sup.pull_all(0, None).await;
    for doc in &s.docs {
        let sc = scope(doc);
        assert!(
            sc == "directory" || sc == format!("notes:{a}"),
            "supporter pulled {doc}"
        );
    }
    assert!(s.docs.iter().any(|d| d.starts_with(&format!("notes:{a}/"))));
    assert_eq!(s.notes_readable, vec![a.to_string()]);
    let c = coord.pull_all(0, None).await;
    assert!(
        c.docs.iter().all(|d| !d.starts_with("notes:")),
        "no consent, no notes for coordinators: {c:?}"
    );
    // Asking for a forbidden scope explicitly is refused.
    for (who, raw, sc) in [
        ("worker", &worker, format!("notes:{b}")),
        ("worker", &worker, format!("timesheet:{b}")),
        ("worker", &worker, format!("site:{}", coop.site)),
        ("kiosk", &kiosk, format!("timesheet:{b}")),
        ("kiosk", &kiosk, format!("site:{cafe}")),
        ("supporter", &sup, format!("notes:{b}")),
        ("coordinator", &coord, format!("notes:{a}")),
    ] {
        let (status, _) = raw.pull_query(&format!("after=0&scope={sc}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} pulling {sc}");
    }

    // ---- the apps refuse locally too ----
    assert!(matches!(
        aisha.phone.timesheets().shifts(b, None, None),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        aisha.phone.reports().hours("2026-11-01", "2026-11-30"),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        coop.kiosk.timesheets().shifts(a, None, None),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        coop.kiosk.notes().threads(a),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        coop.kiosk.training().records(a),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        supporter.notes().threads(b),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        coop.coordinator.notes().add_thread(a, "hello"),
        Err(Error::Forbidden(_))
    ));

    // ---- consent: coordinators read a person's notes only while they consent ----
    let before = aisha
        .phone
        .notes()
        .add_thread(a, "written before consent")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .expect("notes")
            .is_empty()
    );
    assert!(matches!(
        coop.coordinator.notes().set_consent(a, true).await,
        Err(Error::Forbidden(_))
    ));
    let status = coord
        .status_of(
            coop.http
                .put(coord.url(&format!("/v1/consent/{a}")))
                .json(&serde_json::json!({ "coordinator_notes": true })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a coordinator cannot consent for a person"
    );
    let status = sup
        .status_of(
            coop.http
                .put(sup.url(&format!("/v1/consent/{b}")))
                .json(&serde_json::json!({ "coordinator_notes": true })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nor a supporter for someone else"
    );
    assert!(coop.coordinator.sync().run().await.is_ok());
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .expect("notes")
            .is_empty()
    );

    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("Aisha consents");
    // The relay now serves her notes to coordinators, the old ones included (back-fill).
    let backfill: Pulled = coord.pull_all(0, Some(&format!("notes:{a}"))).await;
    assert!(
        backfill.docs.iter().any(|d| d.ends_with(&before)),
        "back-fill holds the thread written before consent: {backfill:?}"
    );
    let after_consent = aisha
        .phone
        .notes()
        .add_thread(a, "written after consent")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    let threads = coop.coordinator.notes().threads(a).expect("notes");
    assert!(
        threads.iter().any(|t| t.id == after_consent),
        "the coordinator reads her notes once she consents: {threads:?}"
    );
    assert!(matches!(coop.coordinator.notes().threads(b), Ok(v) if v.is_empty()));

    aisha
        .phone
        .notes()
        .set_consent(a, false)
        .await
        .expect("Aisha withdraws consent");
    let s = coop.coordinator.sync().run().await.expect("sync");
    assert!(s.erased_documents >= 1, "{s:?}");
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .expect("notes")
            .is_empty(),
        "withdrawn: the coordinator's copies are erased"
    );
    let c = coord.pull_all(0, None).await;
    assert!(c.docs.iter().all(|d| !d.starts_with("notes:")), "{c:?}");
    assert!(c.notes_readable.is_empty());
    let (status, _) = coord.pull_query(&format!("after=0&scope=notes:{a}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Her own devices and her supporter keep them.
    supporter.sync().run().await.expect("sync");
    assert_eq!(supporter.notes().threads(a).expect("notes").len(), 2);
    assert_eq!(aisha.phone.notes().threads(a).expect("notes").len(), 2);

    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_receives_notes_written_before_consent() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    let thread = aisha
        .phone
        .notes()
        .add_thread(a, "written before consent")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .expect("notes")
            .is_empty()
    );
    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("consent");
    coop.coordinator.sync().run().await.expect("sync");
    let threads = coop.coordinator.notes().threads(a).expect("notes");
    assert!(
        threads.iter().any(|t| t.id == thread),
        "the coordinator reads the note written before consent: {threads:?}"
    );
    // Withdrawn, then given again: the erased copies come back.
    aisha
        .phone
        .notes()
        .set_consent(a, false)
        .await
        .expect("withdraw");
    coop.coordinator.sync().run().await.expect("sync");
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .expect("notes")
            .is_empty()
    );
    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("consent again");
    coop.coordinator.sync().run().await.expect("sync");
    let threads = coop.coordinator.notes().threads(a).expect("notes");
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0].id, thread);
    coop.shutdown().await;
}
