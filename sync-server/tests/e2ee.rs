//! The relay's side of end-to-end encryption (docs/SECURITY.md, docs/PROTOCOL.md: keys):
//! device keys are registered once, key envelopes travel with join codes, and a device
//! with keys may push only blobs it sealed and signed, never into another device's
//! document.

mod common;

use common::{Client, TestRelay, grant, push_doc, start_relay};
use logbook_crypto::{BlobContext, Compression, Identity, ScopeSecretKey, seal_blob_to};
use logbook_protocol::{Role, Scope};
use reqwest::StatusCode;
use serde_json::json;

/// Registers fresh keys (key id `key_id`) for `client`, whose grant is `g`.
async fn register(client: &Client, key_id: &str, g: &logbook_protocol::Grant) -> Identity {
    let me = Identity::generate(key_id).expect("identity");
    let keys = me.public_keys(g.clone()).to_bytes().expect("keys");
    let (status, body) = client
        .put("/v1/keys/me", &json!({ "keys": hex::encode(keys) }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    me
}

fn sealed(relay: &TestRelay, me: &Identity, doc: &str, bytes: &[u8]) -> Vec<u8> {
    let ctx = BlobContext::new(&relay.coop_id, doc).expect("ctx");
    let key = ScopeSecretKey::generate(Scope::of_doc(doc).expect("doc")).expect("key");
    seal_blob_to(&ctx, me, &key.public_key(), bytes, Compression::None)
        .expect("seal")
        .bytes
}

#[tokio::test]
async fn a_device_with_keys_pushes_only_its_own_sealed_blobs() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let phone = relay.device(&coordinator, &ann).await;
    let kiosk_grant = grant(Role::Kiosk, None, Some("cafe"), &[]);
    let kiosk = relay.device(&coordinator, &kiosk_grant).await;

    // Before registering keys: a plaintext push is still accepted (clients from before
    // end-to-end encryption).
    let own = "timesheet:ann/2026-11/d-phone";
    assert!(
        phone
            .try_push(vec![push_doc(own, &[b"plain"])])
            .await
            .is_ok()
    );
    let me = register(&phone, "d-phone", &ann).await;
    let _kiosk_keys = register(&kiosk, "d-kiosk", &kiosk_grant).await;

    // Now: plaintext is refused, a blob sealed by this device is taken.
    assert_eq!(
        phone.try_push(vec![push_doc(own, &[b"plain again"])]).await,
        Err(StatusCode::FORBIDDEN)
    );
    let good = sealed(&relay, &me, own, b"a punch");
    assert!(phone.try_push(vec![push_doc(own, &[&good])]).await.is_ok());
    // A blob sealed for another document (moved) is refused.
    let other = "timesheet:ann/2026-11/d-phone2";
    let moved = sealed(&relay, &me, other, b"a punch");
    assert_eq!(
        phone.try_push(vec![push_doc(own, &[&moved])]).await,
        Err(StatusCode::FORBIDDEN)
    );
    // A flipped byte is refused.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    assert_eq!(
        phone.try_push(vec![push_doc(own, &[&flipped])]).await,
        Err(StatusCode::FORBIDDEN)
    );
    // Signed by someone else (another identity claiming this key id) is refused.
    let impostor = Identity::generate("d-phone").expect("identity");
    let forged = sealed(&relay, &impostor, own, b"a punch");
    assert_eq!(
        phone.try_push(vec![push_doc(own, &[&forged])]).await,
        Err(StatusCode::FORBIDDEN)
    );
    // Into the kiosk's document, even correctly sealed and signed by the phone: refused.
    let kiosk_doc = "timesheet:ann/2026-11/d-kiosk";
    let into_kiosk = sealed(&relay, &me, kiosk_doc, b"a punch");
    assert_eq!(
        phone
            .try_push(vec![push_doc(kiosk_doc, &[&into_kiosk])])
            .await,
        Err(StatusCode::FORBIDDEN)
    );
    // The access table still comes first.
    let bens = "timesheet:ben/2026-11/d-phone";
    let to_ben = sealed(&relay, &me, bens, b"x");
    assert_eq!(
        phone.try_push(vec![push_doc(bens, &[&to_ben])]).await,
        Err(StatusCode::FORBIDDEN)
    );
}

#[tokio::test]
async fn keys_are_registered_once_and_listed_with_certificates_and_wrapped_keys() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let coord_grant = grant(Role::Coordinator, None, None, &[]);
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let phone = relay.device(&coordinator, &ann).await;
    register(&coordinator, "d-laptop", &coord_grant).await;
    let me = register(&phone, "d-phone", &ann).await;

    // The same keys again: fine (a retry). Other keys: 409. A grant not the device's: 400.
    let keys = me.public_keys(ann.clone()).to_bytes().expect("keys");
    let (status, _) = phone
        .put("/v1/keys/me", &json!({ "keys": hex::encode(&keys) }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let other = Identity::generate("d-phone").expect("identity");
    let other_keys = other.public_keys(ann.clone()).to_bytes().expect("keys");
    let (status, _) = phone
        .put("/v1/keys/me", &json!({ "keys": hex::encode(other_keys) }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let kiosk_grant = grant(Role::Kiosk, None, Some("cafe"), &[]);
    let kiosk = relay.device(&coordinator, &kiosk_grant).await;
    let wrong = Identity::generate("d-kiosk")
        .expect("identity")
        .public_keys(coord_grant.clone())
        .to_bytes()
        .expect("keys");
    let (status, _) = kiosk
        .put("/v1/keys/me", &json!({ "keys": hex::encode(wrong) }))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a kiosk cannot claim a coordinator grant"
    );
    // Nor another device's key id (it names that device's documents).
    let stolen = Identity::generate("d-phone")
        .expect("identity")
        .public_keys(kiosk_grant.clone())
        .to_bytes()
        .expect("keys");
    let (status, _) = kiosk
        .put("/v1/keys/me", &json!({ "keys": hex::encode(stolen) }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Certificates only from coordinators; wrapped keys to devices of this coop only.
    let (status, _) = phone
        .post(
            "/v1/keys/wrapped",
            &json!({ "certificates": [{ "device_id": phone.device_id, "certificate": "00" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = coordinator
        .post(
            "/v1/keys/wrapped",
            &json!({
                "wrapped": [{ "to": phone.device_id, "key": "abcd" }],
                "certificates": [{ "device_id": phone.device_id, "certificate": "0102" }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = coordinator
        .post(
            "/v1/keys/wrapped",
            &json!({ "wrapped": [{ "to": "dev-elsewhere", "key": "abcd" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, listing) = phone.get("/v1/keys").await;
    assert_eq!(status, StatusCode::OK);
    let devices = listing["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2, "the kiosk registered nothing: {listing}");
    let mine = devices
        .iter()
        .find(|d| d["device_id"] == phone.device_id.as_str())
        .expect("the phone");
    assert_eq!(mine["keys"], hex::encode(&keys));
    assert_eq!(mine["certificates"], json!(["0102"]));
    assert_eq!(listing["wrapped"], json!(["abcd"]));
    let (_, theirs) = coordinator.get("/v1/keys").await;
    assert_eq!(
        theirs["wrapped"],
        json!([]),
        "wrapped keys go to their recipient only"
    );
}

#[tokio::test]
async fn the_key_envelope_travels_with_the_join_code_once() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let code = coordinator.invite(&ann).await;
    let (status, _) = coordinator
        .put(
            "/v1/invites/envelope",
            &json!({ "code": code, "envelope": "4c424a01" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Only coordinators, only unused codes of their coop.
    let (status, _) = coordinator
        .put(
            "/v1/invites/envelope",
            &json!({ "code": "AAAA-BBBB-CCCC", "envelope": "00" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = common::post_json(
        &relay.http,
        &relay.url("/v1/join"),
        None,
        &json!({ "code": code, "device_name": "phone" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["key_envelope"], "4c424a01");
    let (status, _) = coordinator
        .put(
            "/v1/invites/envelope",
            &json!({ "code": code, "envelope": "00" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a used code takes no envelope"
    );
    // The operator's first coordinator code carries none.
    let fresh = start_relay().await;
    let (_, body) = common::post_json(
        &fresh.http,
        &fresh.url("/v1/join"),
        None,
        &json!({ "code": fresh.coordinator_code, "device_name": "laptop" }),
    )
    .await;
    assert!(body.get("key_envelope").is_none());
}

#[tokio::test]
async fn revoking_a_device_cancels_the_join_codes_it_minted() {
    let relay = start_relay().await;
    let first = relay.coordinator().await;
    let coord_grant = grant(Role::Coordinator, None, None, &[]);
    let second = relay.device(&first, &coord_grant).await;
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let by_second = second.invite(&ann).await;
    let by_first = first.invite(&ann).await;
    let (status, _) = first
        .post(
            &format!("/v1/devices/{}/revoke", second.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let join = |code: String| {
        let relay = &relay;
        async move {
            common::post_json(
                &relay.http,
                &relay.url("/v1/join"),
                None,
                &json!({ "code": code, "device_name": "phone" }),
            )
            .await
            .0
        }
    };
    assert_eq!(join(by_second).await, StatusCode::UNAUTHORIZED, "cancelled");
    assert_eq!(join(by_first).await, StatusCode::OK, "other codes stand");
}

#[tokio::test]
async fn every_key_event_moves_the_keys_epoch_and_nothing_else_does() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let coord_grant = grant(Role::Coordinator, None, None, &[]);
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let phone = relay.device(&coordinator, &ann).await;
    let epoch = || async {
        let pulled = phone
            .pull(0)
            .await
            .keys_epoch
            .expect("a pull carries the epoch");
        let (status, listing) = phone.get("/v1/keys").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listing["epoch"], json!(pulled), "both answers agree");
        pulled
    };
    let mut last = epoch().await;
    fn moved(last: &mut u64, now: u64, what: &str) {
        assert!(now > *last, "{what} is a key event: {last} -> {now}");
        *last = now;
    }

    register(&coordinator, "d-laptop", &coord_grant).await;
    moved(&mut last, epoch().await, "a device registering its keys");
    let me = register(&phone, "d-phone", &ann).await;
    moved(&mut last, epoch().await, "another device registering");
    // The same keys again change nothing.
    let keys = me.public_keys(ann.clone()).to_bytes().expect("keys");
    let (status, _) = phone
        .put("/v1/keys/me", &json!({ "keys": hex::encode(&keys) }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(epoch().await, last, "a repeated registration is no event");

    // Neither are pushes or invites.
    let own = "timesheet:ann/2026-11/d-phone";
    phone
        .push(vec![push_doc(
            own,
            &[&sealed(&relay, &me, own, b"a punch")],
        )])
        .await;
    coordinator.invite(&ann).await;
    assert_eq!(epoch().await, last, "no key event");

    // Consent is one: the person's other devices and supporters learn it in their next
    // key round (withdrawn elsewhere, a device stops wrapping the notes key), and the
    // listing tells the person's own device what the relay holds.
    let (status, _) = phone
        .put("/v1/consent/ann", &json!({ "coordinator_notes": true }))
        .await;
    assert!(status.is_success(), "{status}");
    moved(&mut last, epoch().await, "a consent");
    let (status, listing) = phone.get("/v1/keys").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listing["consent"],
        json!([{ "person": "ann", "coordinator_notes": true }])
    );
    let (_, listing) = coordinator.get("/v1/keys").await;
    assert!(
        listing.get("consent").is_none(),
        "not listed to coordinators"
    );

    let (status, _) = coordinator
        .post(
            "/v1/keys/wrapped",
            &json!({ "wrapped": [{ "to": phone.device_id, "key": "abcd" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    moved(&mut last, epoch().await, "a key delivery");
    let (status, _) = coordinator
        .post(
            "/v1/keys/wrapped",
            &json!({ "certificates": [{ "device_id": phone.device_id, "certificate": "0102" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    moved(&mut last, epoch().await, "a certificate");

    let kiosk = relay
        .device(&coordinator, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    let (status, _) = coordinator
        .post(
            &format!("/v1/devices/{}/revoke", kiosk.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    moved(&mut last, epoch().await, "a revocation");
}

/// Migration from plaintext (docs/SECURITY.md): the switch to "sealed only" is refused,
/// with counts, while a live device has no keys or a plaintext blob remains; afterwards
/// plaintext pushes and proof-less key registrations are refused.
#[tokio::test]
async fn a_coop_becomes_sealed_only_once_no_plaintext_is_left() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let coord_grant = grant(Role::Coordinator, None, None, &[]);
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let phone = relay.device(&coordinator, &ann).await;
    let kiosk = relay
        .device(&coordinator, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    // Plaintext, as clients from before end-to-end encryption pushed it.
    let own = "timesheet:ann/2026-11/d-phone";
    let plain: &[u8] = b"\x85\x6f\x4a\x83 a plaintext punch";
    phone.push(vec![push_doc(own, &[plain])]).await;
    let switch = |c: &Client| {
        let c = c.clone();
        async move { c.post("/v1/coop/sealed-only", &json!({})).await }
    };

    let (status, body) = switch(&phone).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "coordinators only: {body}");
    let (status, body) = switch(&coordinator).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("1 blob(s) not sealed, 3 device(s) without keys"),
        "{message}"
    );
    // A revoked device without keys does not count.
    let (status, _) = coordinator
        .post(
            &format!("/v1/devices/{}/revoke", kiosk.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    register(&coordinator, "d-laptop", &coord_grant).await;
    let me = register(&phone, "d-phone", &ann).await;
    let (status, body) = switch(&coordinator).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 blob(s) not sealed, 0 device(s) without keys")),
        "{body}"
    );
    let (_, keys) = phone.get("/v1/keys").await;
    assert!(keys.get("sealed_only").is_none(), "{keys}");
    let epoch = keys["epoch"].as_u64().expect("epoch");

    // The phone re-seals: a sealed snapshot supersedes its plaintext blob.
    let snapshot = sealed(&relay, &me, own, b"the punches, sealed");
    let mut doc = push_doc(own, &[&snapshot]);
    doc.supersedes = vec![logbook_protocol::content_id(plain)];
    phone.push(vec![doc]).await;
    for _ in 0..2 {
        let (status, body) = switch(&coordinator).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "sealed_only": true, "keyless_devices": 0, "plaintext_blobs": 0 })
        );
    }
    let (_, keys) = phone.get("/v1/keys").await;
    assert_eq!(keys["sealed_only"], json!(true), "{keys}");
    // A key event, once: devices learn it from their next pull.
    assert_eq!(keys["epoch"].as_u64(), Some(epoch + 1), "{keys}");

    // From now on: no plaintext, no keys without a join proof.
    let late = relay.device(&coordinator, &ann).await;
    assert_eq!(
        late.try_push(vec![push_doc("notes:ann/t-1", &[plain])])
            .await,
        Err(StatusCode::FORBIDDEN)
    );
    let other = Identity::generate("d-late").expect("identity");
    let keys = other.public_keys(ann.clone()).to_bytes().expect("keys");
    let (status, body) = late
        .put("/v1/keys/me", &json!({ "keys": hex::encode(keys) }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The phone with keys still pushes sealed blobs.
    let next = sealed(&relay, &me, own, b"another punch");
    assert!(phone.try_push(vec![push_doc(own, &[&next])]).await.is_ok());
}

/// A page of a migration listing as `(doc, content ids, blobs)`, and its `next`.
async fn migrate_page(
    client: &Client,
    path: &str,
    after: Option<&str>,
    limit: Option<u32>,
) -> (
    StatusCode,
    Vec<(String, Vec<String>, Vec<Vec<u8>>)>,
    Option<String>,
) {
    let (status, body) = client
        .post(path, &json!({ "after": after, "limit": limit }))
        .await;
    if status != StatusCode::OK {
        return (status, Vec::new(), None);
    }
    let page: logbook_protocol::MigratePageResponse =
        serde_json::from_value(body).expect("a migration page");
    let docs = page
        .docs
        .into_iter()
        .map(|d| {
            let blobs = d
                .blobs
                .iter()
                .map(|b| hex::decode(b).expect("hex"))
                .collect();
            (d.doc, d.content_ids, blobs)
        })
        .collect();
    (status, docs, page.next)
}

/// Migration from plaintext: a device gets back the plaintext blobs it pushed itself
/// (a kiosk that forgot them re-seals them), in pages of whole documents, and nothing of
/// any other device's, nothing sealed, nothing once the coop is sealed only.
#[tokio::test]
async fn a_device_gets_back_only_its_own_plaintext_blobs() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let kiosk_grant = grant(Role::Kiosk, None, Some("cafe"), &[]);
    let kiosk = relay.device(&coordinator, &kiosk_grant).await;
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let phone = relay.device(&coordinator, &ann).await;
    let oct = "timesheet:ann/2026-10/d-kiosk";
    let nov = "timesheet:ann/2026-11/d-kiosk";
    let taps: [&[u8]; 3] = [
        b"\x85\x6f\x4a\x83 october tap",
        b"\x85\x6f\x4a\x83 november tap 1",
        b"\x85\x6f\x4a\x83 november tap 2",
    ];
    kiosk.push(vec![push_doc(nov, &[taps[1]])]).await;
    kiosk.push(vec![push_doc(oct, &[taps[0]])]).await;
    kiosk.push(vec![push_doc(nov, &[taps[2]])]).await;
    phone
        .push(vec![push_doc(
            "timesheet:ann/2026-11/d-phone",
            &[b"\x85\x6f\x4a\x83 the phone's own"],
        )])
        .await;
    let path = "/v1/migrate/own-plaintext";
    // Only for a device that upgraded (registered keys).
    let (status, _, _) = migrate_page(&kiosk, path, None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let me = register(&kiosk, "d-kiosk", &kiosk_grant).await;

    // Whole documents, in document order, one per page here.
    let (status, page, next) = migrate_page(&kiosk, path, None, Some(1)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].0, oct);
    assert_eq!(page[0].2, vec![taps[0].to_vec()]);
    assert_eq!(page[0].1, vec![logbook_protocol::content_id(taps[0])]);
    assert_eq!(next.as_deref(), Some(oct));
    let (_, page, next) = migrate_page(&kiosk, path, Some(oct), Some(1)).await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].0, nov);
    assert_eq!(
        page[0].2,
        vec![taps[1].to_vec(), taps[2].to_vec()],
        "log order"
    );
    assert_eq!(next, None, "the last page");
    let (_, all, _) = migrate_page(&kiosk, path, None, None).await;
    assert_eq!(all.len(), 2, "only the kiosk's own documents");

    // Its sealed blobs are not listed, and superseded plaintext is gone.
    let snapshot = sealed(&relay, &me, nov, b"november, sealed");
    let mut doc = push_doc(nov, &[&snapshot]);
    doc.supersedes = vec![
        logbook_protocol::content_id(taps[1]),
        logbook_protocol::content_id(taps[2]),
    ];
    kiosk.push(vec![doc]).await;
    let (_, all, _) = migrate_page(&kiosk, path, None, None).await;
    assert_eq!(
        all.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        vec![oct]
    );
    // Nothing once the coop is sealed only (here: after the rest is re-sealed and the
    // phone has keys).
    let snapshot = sealed(&relay, &me, oct, b"october, sealed");
    let mut doc = push_doc(oct, &[&snapshot]);
    doc.supersedes = vec![logbook_protocol::content_id(taps[0])];
    kiosk.push(vec![doc]).await;
    let phone_keys = register(&phone, "d-phone", &ann).await;
    let (_, own, _) = migrate_page(&phone, path, None, None).await;
    assert_eq!(own.len(), 1);
    let snapshot = sealed(&relay, &phone_keys, &own[0].0, b"sealed");
    let mut doc = push_doc(&own[0].0, &[&snapshot]);
    doc.supersedes = own[0].1.clone();
    phone.push(vec![doc]).await;
    register(
        &coordinator,
        "d-laptop",
        &grant(Role::Coordinator, None, None, &[]),
    )
    .await;
    let (status, body) = coordinator.post("/v1/coop/sealed-only", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, all, _) = migrate_page(&kiosk, path, None, None).await;
    assert_eq!((status, all.len()), (StatusCode::OK, 0));
}

/// Migration from plaintext: a revoked device that never registered keys leaves plaintext
/// nobody else may write; a coordinator lists it and re-seals it as custodian. Only a
/// coordinator, only with the signed custody flag, and only into documents whose other
/// writers are all revoked and keyless: never a live device's.
#[tokio::test]
async fn only_a_coordinator_re_seals_only_a_revoked_keyless_devices_plaintext() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let coord_grant = grant(Role::Coordinator, None, None, &[]);
    let ann = grant(Role::Worker, Some("ann"), None, &[]);
    let old = relay.device(&coordinator, &ann).await;
    let phone = relay.device(&coordinator, &ann).await;
    let lost = "timesheet:ann/2026-11/d-lost";
    let live = "timesheet:ann/2026-11/d-phone";
    let tap: &[u8] = b"\x85\x6f\x4a\x83 the lost phone's punch";
    let note: &[u8] = b"\x85\x6f\x4a\x83 the lost phone's note";
    let thread = "notes:ann/t-1";
    old.push(vec![push_doc(lost, &[tap]), push_doc(thread, &[note])])
        .await;
    phone
        .push(vec![push_doc(
            live,
            &[b"\x85\x6f\x4a\x83 the live phone's punch"],
        )])
        .await;
    let path = "/v1/migrate/orphaned";

    // Not revoked yet: nothing is orphaned.
    let coord = register(&coordinator, "d-laptop", &coord_grant).await;
    let (status, page, _) = migrate_page(&coordinator, path, None, None).await;
    assert_eq!((status, page.len()), (StatusCode::OK, 0));
    let (status, _) = coordinator
        .post(&format!("/v1/devices/{}/revoke", old.device_id), &json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = migrate_page(&phone, path, None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only for a device with keys");
    let (status, page, next) = migrate_page(&coordinator, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next, None);
    assert_eq!(
        page.len(),
        1,
        "the revoked phone's timesheet, not its note (no consent)"
    );
    assert_eq!(page[0].0, lost);
    assert_eq!(page[0].2, vec![tap.to_vec()]);

    let worker = register(&phone, "d-phone", &ann).await;
    // Ann's phone lists what it may read and write: her timesheet and her notes.
    let (status, page, _) = migrate_page(&phone, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        vec![thread, lost]
    );
    // A sealed snapshot of the thread supersedes the revoked phone's plaintext in it
    // (a shared document: no custody flag needed), while the coop migrates.
    let mut snapshot = push_doc(thread, &[&sealed(&relay, &worker, thread, b"the thread")]);
    snapshot.supersedes = vec![logbook_protocol::content_id(note)];
    phone.push(vec![snapshot]).await;
    let rows = relay.log_rows(thread).await;
    assert_eq!(rows.len(), 1, "only the sealed snapshot is left");
    assert_ne!(rows[0].1.as_deref(), Some(note));
    let mut ring = logbook_crypto::KeyRing::new();
    ring.create_scope(Scope::Timesheet("ann".into()))
        .expect("a key");
    let custody = |who: &Identity, doc: &str| {
        let ctx = BlobContext::new(&relay.coop_id, doc).expect("ctx");
        logbook_crypto::seal_custody_blob(&ctx, who, &ring, b"the punches, sealed")
            .expect("seal")
            .bytes
    };
    let superseding = |doc: &str, blob: &[u8]| {
        let mut d = push_doc(doc, &[blob]);
        d.supersedes = vec![logbook_protocol::content_id(tap)];
        d
    };
    // A worker (who may write Ann's timesheets) is no custodian.
    assert_eq!(
        phone
            .try_push(vec![superseding(lost, &custody(&worker, lost))])
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    // A coordinator's ordinary blob is not for another device's document.
    assert_eq!(
        coordinator
            .try_push(vec![superseding(lost, &sealed(&relay, &coord, lost, b"x"))])
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    // Nor a custody blob for a live device (it registered keys, and it pushed there).
    assert_eq!(
        coordinator
            .try_push(vec![superseding(live, &custody(&coord, live))])
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    // The custody re-seal of the revoked phone's document goes, superseding its plaintext.
    let blob = custody(&coord, lost);
    coordinator.push(vec![superseding(lost, &blob)]).await;
    let rows = relay.log_rows(lost).await;
    assert_eq!(rows, vec![("blob".to_string(), Some(blob))]);
    let (_, page, _) = migrate_page(&coordinator, path, None, None).await;
    assert!(page.is_empty(), "nothing orphaned is left");
    // And not again: the document holds no orphaned blob any more.
    assert_eq!(
        coordinator
            .try_push(vec![push_doc(lost, &[&custody(&coord, lost)])])
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
}
