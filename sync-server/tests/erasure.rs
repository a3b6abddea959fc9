//! docs/SECURITY.md, *Erasure*: a tombstone sent with tags names no document, and wrapped
//! keys go once their recipient acknowledges them.

mod common;

use common::{grant, push_doc, start_relay};
use logbook_protocol::Role;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn an_erasure_with_tags_leaves_an_opaque_tombstone_and_bad_tags_are_refused() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let ann = relay
        .device(&coordinator, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let doc = "records:ann/cpo/o-00c0ffee00c0ffee";
    coordinator.push(vec![push_doc(doc, &[b"an order"])]).await;
    let tag = format!("1.{}", "7e".repeat(32));
    for bad in [
        json!(["records:ann/cpo/o-00c0ffee00c0ffee"]),
        json!([format!("1.{}", "7E".repeat(32))]),
    ] {
        let (status, _) = coordinator
            .post("/v1/docs/delete", &json!({ "doc": doc, "tags": bad }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let nine: Vec<String> = (0..9).map(|_| tag.clone()).collect();
    let (status, _) = coordinator
        .post("/v1/docs/delete", &json!({ "doc": doc, "tags": nine }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "at most 8 tags");
    // Authorization is unchanged: a worker may not erase records.
    let (status, _) = ann
        .post("/v1/docs/delete", &json!({ "doc": doc, "tags": [tag] }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = coordinator
        .post("/v1/docs/delete", &json!({ "doc": doc, "tags": [tag] }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let page = ann.pull(0).await;
    assert!(page.deleted.is_empty() && page.docs.is_empty(), "{page:?}");
    assert_eq!(page.erased.len(), 1);
    assert_eq!(page.erased[0].scope, "records:ann");
    assert_eq!(page.erased[0].tags, vec![tag.clone()]);
    assert_eq!(
        relay
            .count("SELECT count(*) FROM log WHERE doc = $1", doc)
            .await,
        0,
        "the id is gone from the log"
    );
    // Later pushes to it are still discarded.
    let again = coordinator.push(vec![push_doc(doc, &[b"late"])]).await;
    assert_eq!(again.discarded, 1);
}

#[tokio::test]
async fn a_wrapped_key_goes_once_its_recipient_acknowledges_it() {
    let relay = start_relay().await;
    let coordinator = relay.coordinator().await;
    let phone = relay
        .device(&coordinator, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let (status, _) = coordinator
        .post(
            "/v1/keys/wrapped",
            &json!({ "wrapped": [
                { "to": phone.device_id, "key": "abcd" },
                { "to": phone.device_id, "key": "ef01" },
            ] }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listing) = phone.get("/v1/keys").await;
    assert_eq!(listing["wrapped"], json!(["abcd", "ef01"]));
    let epoch = listing["epoch"].clone();
    let hash = |hex_key: &str| hex::encode(Sha256::digest(hex::decode(hex_key).expect("hex")));

    // Not a hash: refused. Someone else's acknowledgement: nothing goes.
    let (status, _) = phone
        .post("/v1/keys/wrapped/ack", &json!({ "hashes": ["abcd"] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = coordinator
        .post("/v1/keys/wrapped/ack", &json!({ "hashes": [hash("abcd")] }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listing) = phone.get("/v1/keys").await;
    assert_eq!(listing["wrapped"], json!(["abcd", "ef01"]));

    let (status, _) = phone
        .post("/v1/keys/wrapped/ack", &json!({ "hashes": [hash("abcd")] }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listing) = phone.get("/v1/keys").await;
    assert_eq!(listing["wrapped"], json!(["ef01"]));
    assert_eq!(
        listing["epoch"], epoch,
        "an acknowledgement is not a key event"
    );
    assert_eq!(
        relay
            .count(
                "SELECT count(*) FROM wrapped_keys WHERE recipient = $1",
                &phone.device_id
            )
            .await,
        1
    );
}
