//! The relay's JSON control bodies (join, invite, consent, delete) as it parses them
//! (`serde_json::from_slice`), then the checks that follow: `validate_invite_grant` for
//! an invite, `Scope::of_doc` for a delete.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbook_protocol::{
    ConsentRequest, DeleteDocRequest, ErrorBody, Grant, InviteRequest, JoinRequest, Scope,
    validate_entity_id, validate_invite_grant,
};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<JoinRequest>(data);
    let _ = serde_json::from_slice::<ConsentRequest>(data);
    let _ = serde_json::from_slice::<ErrorBody>(data);
    if let Ok(req) = serde_json::from_slice::<InviteRequest>(data) {
        check_grant(&req.grant);
    }
    if let Ok(grant) = serde_json::from_slice::<Grant>(data) {
        check_grant(&grant);
    }
    if let Ok(req) = serde_json::from_slice::<DeleteDocRequest>(data) {
        let _ = Scope::of_doc(&req.doc);
    }
});

fn check_grant(grant: &Grant) {
    if validate_invite_grant(grant).is_ok() {
        // An accepted grant has well-formed ids only, and survives JSON.
        for id in grant
            .person
            .iter()
            .chain(&grant.site)
            .chain(&grant.supports)
        {
            assert!(validate_entity_id(id).is_ok());
        }
        let json = serde_json::to_vec(grant).expect("grant to JSON");
        let back: Grant = serde_json::from_slice(&json).expect("grant from JSON");
        assert_eq!(&back, grant);
    }
}
