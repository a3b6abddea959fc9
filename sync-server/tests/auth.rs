//! Joining, invites, tokens and revocation through real HTTP.

mod common;

use common::*;
use logbook_protocol::{DevicesResponse, MeResponse, Role};
use logbook_relay::{admin, credentials};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_coordinator_joins_with_the_code_from_create_coop_and_it_works_once() {
    let t = start_relay().await;
    // Codes are forgiving to type: lower case, no dashes.
    let sloppy = t.coordinator_code.to_lowercase().replace('-', "");
    let coord = t.join(&sloppy, "office laptop").await;
    let (status, me) = coord.get("/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    let me: MeResponse = serde_json::from_value(me).expect("me");
    assert_eq!(me.coop_id, t.coop_id);
    assert_eq!(me.coop_name, "Test Bakery");
    assert_eq!(me.grant.role, Role::Coordinator);
    assert_eq!(me.device_id, coord.device_id);

    // The same code a second time is refused.
    let (status, body) = post_json(
        &t.http,
        &t.url("/v1/join"),
        None,
        &json!({"code": t.coordinator_code, "device_name": "thief"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    // The message does not echo the code.
    assert!(!body.to_string().contains(&t.coordinator_code));
}

#[tokio::test]
async fn invites_mint_codes_for_each_role_and_validate_grants() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let worker = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let (_, me) = worker.get("/v1/me").await;
    assert_eq!(me["grant"]["role"], "worker");
    assert_eq!(me["grant"]["person"], "ann");

    for bad in [
        json!({"role": "worker"}),
        json!({"role": "kiosk"}),
        json!({"role": "supporter", "supports": []}),
        json!({"role": "worker", "person": "ann smith"}),
        json!({"role": "worker", "person": "ann", "expires_in_hours": 0}),
        json!({"role": "worker", "person": "ann", "expires_in_hours": 721}),
        json!({"role": "overlord"}),
    ] {
        let (status, body) = coord.post("/v1/invites", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
    }
    let (status, body) = coord
        .post(
            "/v1/invites",
            &json!({"role": "kiosk", "site": "cafe", "expires_in_hours": 720}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let expires = body["expires_at"].as_i64().expect("expires_at");
    assert!((expires - now - 720 * 3600).abs() < 60);

    // Only coordinators invite and list devices.
    let (status, _) = worker
        .post("/v1/invites", &json!({"role": "coordinator"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = worker.get("/v1/devices").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = coord.get("/v1/devices").await;
    assert_eq!(status, StatusCode::OK);
    let list: DevicesResponse = serde_json::from_value(body).expect("devices");
    assert_eq!(list.devices.len(), 2);
    assert!(list.devices.iter().all(|d| !d.revoked));
    assert!(list.devices.iter().all(|d| d.last_seen_at.is_some()));
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let t = start_relay().await;
    let store = t.db.open(Default::default()).expect("open store");
    let code = credentials::new_join_code();
    let hash = credentials::join_code_hash(&code).expect("hash");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    store
        .add_join_code(
            &t.coop_id,
            &grant(Role::Worker, Some("ann"), None, &[]),
            &hash,
            now - 1,
            now - 3600,
        )
        .expect("add code");
    let (status, _) = post_json(
        &t.http,
        &t.url("/v1/join"),
        None,
        &json!({"code": code, "device_name": "late phone"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_tokens_get_401() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let no_auth = t.http.get(t.url("/v1/me")).send().await.expect("send");
    assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);

    let mut forged = coord.clone();
    forged.token = format!("{}.{}", coord.device_id, "0".repeat(64));
    assert_eq!(forged.get("/v1/me").await.0, StatusCode::UNAUTHORIZED);
    forged.token = "garbage".into();
    assert_eq!(forged.get("/v1/me").await.0, StatusCode::UNAUTHORIZED);
    forged.token = format!("dev-nobody.{}", "a".repeat(64));
    assert_eq!(forged.get("/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        forged.try_pull_query("after=0").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    let (status, _) = post_json(
        &t.http,
        &t.url("/v1/join"),
        None,
        &json!({"code": "AAAA-BBBB-CCCC", "device_name": "guess"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The scheme is case-insensitive (RFC 7235); the token is not.
    let res = t
        .http
        .get(t.url("/v1/me"))
        .header("authorization", format!("bearer {}", coord.token))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let res = t
        .http
        .get(t.url("/v1/me"))
        .header("authorization", format!("Basic {}", coord.token))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The health check needs no token.
    let health = t.http.get(t.url("/healthz")).send().await.expect("send");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.expect("text"), "ok");
}

#[tokio::test]
async fn a_revoked_device_is_refused_on_its_very_next_request() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let phone = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let kiosk = t
        .device(&coord, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    phone
        .push(vec![push_doc("timesheet:ann/2026-11/p", &[b"punch"])])
        .await;

    let (status, _) = coord
        .post(
            &format!("/v1/devices/{}/revoke", phone.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(phone.get("/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        phone.try_pull_query("after=0").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        phone
            .try_push(vec![push_doc("timesheet:ann/2026-11/p", &[b"more"])])
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    // The admin command revokes too (on the data dir, while the relay runs).
    admin::revoke_device(&t.db, &kiosk.device_id).expect("admin revoke");
    assert_eq!(kiosk.get("/v1/me").await.0, StatusCode::UNAUTHORIZED);

    let devices = admin::list_devices(&t.db, &t.coop_id).expect("list");
    let revoked: Vec<_> = devices
        .iter()
        .filter(|d| d.revoked)
        .map(|d| &d.device_id)
        .collect();
    assert_eq!(revoked.len(), 2);
    assert!(revoked.contains(&&phone.device_id) && revoked.contains(&&kiosk.device_id));

    // Unknown device: 404. A device of another coop: 404 as well.
    let (status, _) = coord
        .post("/v1/devices/dev-nobody/revoke", &json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = admin::create_coop(&t.db, "Other Coop").expect("coop");
    let other_coord = t.join(&other.coordinator_code, "other").await;
    let (status, _) = coord
        .post(
            &format!("/v1/devices/{}/revoke", other_coord.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(other_coord.get("/v1/me").await.0, StatusCode::OK);
    // A worker cannot revoke anyone.
    let worker = t
        .device(&coord, &grant(Role::Worker, Some("bob"), None, &[]))
        .await;
    let (status, _) = worker
        .post(
            &format!("/v1/devices/{}/revoke", coord.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn coops_do_not_see_each_other() {
    let t = start_relay().await;
    let a = t.coordinator().await;
    let other = admin::create_coop(&t.db, "Other Coop").expect("coop");
    let b = t.join(&other.coordinator_code, "other").await;
    a.push(vec![push_doc("directory/main", &[b"coop a"])]).await;
    b.push(vec![push_doc("directory/main", &[b"coop b"])]).await;
    assert_eq!(
        a.pull_all().await,
        vec![("directory/main".to_string(), b"coop a".to_vec())]
    );
    assert_eq!(
        b.pull_all().await,
        vec![("directory/main".to_string(), b"coop b".to_vec())]
    );
    let (_, devices) = b.get("/v1/devices").await;
    assert_eq!(devices["devices"].as_array().map(Vec::len), Some(1));
}
