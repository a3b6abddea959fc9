//! The security properties of logbook-crypto, each as a test that fails if it breaks.

use logbook_crypto::zeroize::{Zeroize, ZeroizeOnDrop};
use logbook_crypto::*;

const COOP: &str = "coop-7hq2k9x3m1t4p8vd";

fn grant(role: Role) -> Grant {
    Grant {
        role,
        person: None,
        site: None,
        supports: vec![],
    }
}

fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("test setup")
}

/// A small coop: a coordinator laptop, Ann's phone, Bob's phone, the café kiosk and Ann's
/// supporter, with the coordinator's full key ring and everyone in one directory.
struct Coop {
    coord: Identity,
    ann: Identity,
    bob: Identity,
    kiosk: Identity,
    supporter: Identity,
    coord_grant: Grant,
    ann_grant: Grant,
    kiosk_grant: Grant,
    supporter_grant: Grant,
    ring: KeyRing,
    devices: DeviceDirectory,
}

fn coop() -> Coop {
    let coord_grant = grant(Role::Coordinator);
    let ann_grant = Grant {
        person: Some("ann".into()),
        ..grant(Role::Worker)
    };
    let bob_grant = Grant {
        person: Some("bob".into()),
        ..grant(Role::Worker)
    };
    let kiosk_grant = Grant {
        site: Some("cafe".into()),
        ..grant(Role::Kiosk)
    };
    let supporter_grant = Grant {
        supports: vec!["ann".into()],
        ..grant(Role::Supporter)
    };
    let coord = Identity::generate("dev-coord0000000001").expect("test setup");
    let ann = Identity::generate("dev-ann000000000001").expect("test setup");
    let bob = Identity::generate("dev-bob000000000001").expect("test setup");
    let kiosk = Identity::generate("dev-kiosk0000000001").expect("test setup");
    let supporter = Identity::generate("dev-supp00000000001").expect("test setup");
    let mut devices = DeviceDirectory::new();
    devices
        .insert(coord.public_keys(coord_grant.clone()))
        .expect("test setup");
    devices
        .insert(ann.public_keys(ann_grant.clone()))
        .expect("test setup");
    devices
        .insert(bob.public_keys(bob_grant))
        .expect("test setup");
    devices
        .insert(kiosk.public_keys(kiosk_grant.clone()))
        .expect("test setup");
    devices
        .insert(supporter.public_keys(supporter_grant.clone()))
        .expect("test setup");
    let mut ring = KeyRing::new();
    for s in [
        "directory",
        "site:cafe",
        "timesheet:ann",
        "review:ann",
        "records:ann",
        "timesheet:bob",
        "records:bob",
    ] {
        ring.create_scope(scope(s)).expect("test setup");
    }
    Coop {
        coord,
        ann,
        bob,
        kiosk,
        supporter,
        coord_grant,
        ann_grant,
        kiosk_grant,
        supporter_grant,
        ring,
        devices,
    }
}

fn ctx(doc: &str) -> BlobContext<'_> {
    BlobContext::new(COOP, doc).expect("test setup")
}

const PUNCH_DOC: &str = "timesheet:ann/2026-11/dev-ann000000000001";

fn plaintext(n: usize) -> Vec<u8> {
    // Automerge-like: a magic, then semi-random bytes.
    let mut out = AUTOMERGE_MAGIC.to_vec();
    let mut x: u32 = 0x1234_5678;
    while out.len() < n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push((x >> 24) as u8 % 7);
    }
    out.truncate(n);
    out
}

#[test]
fn seal_open_round_trip() {
    let c = coop();
    for n in [0, 1, 250, 4096, 100_000] {
        for compression in [Compression::None, Compression::Deflate, Compression::Auto] {
            let pt = plaintext(n);
            let sealed = seal_blob(&ctx(PUNCH_DOC), &c.ann, &c.ring, &pt, compression).unwrap();
            assert_eq!(sealed.key_id.to_string(), "timesheet:ann#1");
            assert_ne!(sealed.bytes, pt);
            let opened = open_blob(
                &ctx(PUNCH_DOC),
                &sealed.bytes,
                &c.ring,
                &c.devices,
                Some(c.ann.device_id()),
            )
            .unwrap();
            assert_eq!(opened.plaintext, pt);
            assert_eq!(opened.writer, c.ann.device_id());
            assert_eq!(opened.key_version, 1);
            if n >= 4096 && compression != Compression::None {
                assert!(
                    sealed.bytes.len() < pt.len(),
                    "compressible plaintext shrinks"
                );
            }
        }
    }
    // Two seals of the same plaintext differ (fresh HPKE ephemeral key each time).
    let a = seal_blob(&ctx(PUNCH_DOC), &c.ann, &c.ring, b"x", Compression::None).unwrap();
    let b = seal_blob(&ctx(PUNCH_DOC), &c.ann, &c.ring, b"x", Compression::None).unwrap();
    assert_ne!(a.bytes, b.bytes);
}

#[test]
fn kiosk_holding_only_public_key_cannot_open_what_it_sealed() {
    let c = coop();
    let mut kiosk_ring = c.ring.subset_for(&c.kiosk_grant, |_| false);
    // The café's people only.
    kiosk_ring.retain(|s| matches!(s, Scope::Site(_)) || *s == scope("timesheet:ann"));
    assert!(
        kiosk_ring
            .keys()
            .all(|k| !k.is_secret() || k.id().scope == scope("site:cafe"))
    );
    assert!(kiosk_ring.can_write(&scope("timesheet:ann")));
    assert!(!kiosk_ring.can_read(&scope("timesheet:ann")));
    assert!(kiosk_ring.can_read(&scope("site:cafe")));
    assert!(!kiosk_ring.can_write(&scope("records:ann")));

    let doc = "timesheet:ann/2026-11/dev-kiosk0000000001";
    let pt = plaintext(250);
    let sealed = seal_blob(&ctx(doc), &c.kiosk, &kiosk_ring, &pt, Compression::Auto).unwrap();
    assert_eq!(
        open_blob(&ctx(doc), &sealed.bytes, &kiosk_ring, &c.devices, None),
        Err(CryptoError::CannotOpen)
    );
    // Ann's phone and the coordinator read it.
    let ann_ring = c.ring.subset_for(&c.ann_grant, |_| false);
    assert_eq!(
        open_blob(&ctx(doc), &sealed.bytes, &ann_ring, &c.devices, None)
            .unwrap()
            .plaintext,
        pt
    );
    assert_eq!(
        open_blob(&ctx(doc), &sealed.bytes, &c.ring, &c.devices, None)
            .unwrap()
            .plaintext,
        pt
    );
    // A kiosk has nothing to seal records with.
    assert_eq!(
        seal_blob(
            &ctx("records:ann/training"),
            &c.kiosk,
            &kiosk_ring,
            &pt,
            Compression::Auto
        ),
        Err(CryptoError::NoKey)
    );
}

#[test]
fn flipping_any_byte_is_detected() {
    let c = coop();
    for compression in [Compression::None, Compression::Deflate] {
        let sealed = seal_blob(
            &ctx(PUNCH_DOC),
            &c.ann,
            &c.ring,
            &plaintext(250),
            compression,
        )
        .unwrap();
        for i in 0..sealed.bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = sealed.bytes.clone();
                bad[i] ^= bit;
                assert!(
                    open_blob(&ctx(PUNCH_DOC), &bad, &c.ring, &c.devices, None).is_err(),
                    "flip at byte {i} not detected"
                );
            }
        }
        // Truncation and extension too.
        let n = sealed.bytes.len();
        for cut in [0, 1, 7, 40, n - 65, n - 1] {
            assert!(
                open_blob(
                    &ctx(PUNCH_DOC),
                    &sealed.bytes[..cut],
                    &c.ring,
                    &c.devices,
                    None
                )
                .is_err()
            );
        }
        let mut longer = sealed.bytes.clone();
        longer.push(0);
        assert!(open_blob(&ctx(PUNCH_DOC), &longer, &c.ring, &c.devices, None).is_err());
    }
}

#[test]
fn blob_moved_to_another_document_or_coop_is_rejected() {
    let c = coop();
    let sealed = seal_blob(
        &ctx(PUNCH_DOC),
        &c.ann,
        &c.ring,
        &plaintext(250),
        Compression::Auto,
    )
    .unwrap();
    // Same scope, other document (replay into next month's sheet).
    let other = "timesheet:ann/2026-12/dev-ann000000000001";
    assert_eq!(
        open_blob(&ctx(other), &sealed.bytes, &c.ring, &c.devices, None),
        Err(CryptoError::BadSignature)
    );
    // Another coop with the same keys and devices (e.g. a relay mixing tenants).
    let other_coop = BlobContext::new("coop-other", PUNCH_DOC).unwrap();
    assert_eq!(
        open_blob(&other_coop, &sealed.bytes, &c.ring, &c.devices, None),
        Err(CryptoError::BadSignature)
    );
    // Another scope: Bob's timesheet (Ann may not write it) or her records.
    assert!(
        open_blob(
            &ctx("timesheet:bob/2026-11/x"),
            &sealed.bytes,
            &c.ring,
            &c.devices,
            None
        )
        .is_err()
    );
    assert!(
        open_blob(
            &ctx("records:ann/training"),
            &sealed.bytes,
            &c.ring,
            &c.devices,
            None
        )
        .is_err()
    );
    // verify_blob (what a relay could run) agrees.
    assert!(verify_blob(&ctx(PUNCH_DOC), &sealed.bytes, &c.devices).is_ok());
    assert_eq!(
        verify_blob(&ctx(other), &sealed.bytes, &c.devices),
        Err(CryptoError::BadSignature)
    );
    // The relay's key field naming another scope.
    assert_eq!(
        check_key_field(&ctx(PUNCH_DOC), "timesheet:ann#1", &sealed.bytes),
        Ok(())
    );
    assert_eq!(
        check_key_field(&ctx(PUNCH_DOC), "records:ann#1", &sealed.bytes),
        Err(CryptoError::WrongDocument)
    );
}

#[test]
fn replay_into_another_document_is_rejected() {
    let c = coop();
    // A note thread replayed into another thread of the same person.
    let mut ring = KeyRing::new();
    let notes = ring.create_scope(scope("notes:ann")).unwrap();
    let sealed = seal_blob(
        &ctx("notes:ann/thread-1"),
        &c.ann,
        &ring,
        b"private words",
        Compression::Auto,
    )
    .unwrap();
    assert_eq!(
        open_blob(
            &ctx("notes:ann/thread-2"),
            &sealed.bytes,
            &ring,
            &c.devices,
            None
        ),
        Err(CryptoError::BadSignature)
    );
    assert!(
        open_blob(
            &ctx("notes:ann/thread-1"),
            &sealed.bytes,
            &ring,
            &c.devices,
            None
        )
        .is_ok()
    );
    assert_eq!(notes.id().version, 1);
}

#[test]
fn blob_by_device_a_presented_as_device_b_is_rejected() {
    let c = coop();
    let sealed = seal_blob(
        &ctx(PUNCH_DOC),
        &c.ann,
        &c.ring,
        &plaintext(250),
        Compression::Auto,
    )
    .unwrap();
    // The caller expects the device named in the document id: another device's blob is refused.
    assert_eq!(
        open_blob(
            &ctx(PUNCH_DOC),
            &sealed.bytes,
            &c.ring,
            &c.devices,
            Some(c.bob.device_id())
        ),
        Err(CryptoError::WrongWriter)
    );
    // Rewriting the writer id in the header to Bob's (same length) breaks the signature.
    let mut forged = sealed.bytes.clone();
    let at = forged
        .windows(c.ann.device_id().len())
        .position(|w| w == c.ann.device_id().as_bytes())
        .unwrap();
    forged[at..at + c.bob.device_id().len()].copy_from_slice(c.bob.device_id().as_bytes());
    assert_eq!(
        open_blob(&ctx(PUNCH_DOC), &forged, &c.ring, &c.devices, None),
        Err(CryptoError::BadSignature).or(Err(CryptoError::WrongWriter))
    );
    // A writer the directory does not know.
    let mut dir = c.devices.clone();
    dir.remove(c.ann.device_id());
    assert_eq!(
        open_blob(&ctx(PUNCH_DOC), &sealed.bytes, &c.ring, &dir, None),
        Err(CryptoError::UnknownWriter)
    );
    // A device whose role may not write the scope: Ann reads her review documents, so she
    // holds the key, but an approval sealed by her is refused.
    let ann_ring = c.ring.subset_for(&c.ann_grant, |_| false);
    let review = "review:ann/2026/dev-ann000000000001";
    let fake = seal_blob(
        &ctx(review),
        &c.ann,
        &ann_ring,
        b"approved",
        Compression::None,
    )
    .unwrap();
    assert_eq!(
        open_blob(&ctx(review), &fake.bytes, &c.ring, &c.devices, None),
        Err(CryptoError::WrongWriter)
    );
}

#[test]
fn wrong_join_code_fails_cleanly() {
    let c = coop();
    let code = JoinCode::with_relay_code("k7qf 2m9x-t4pa").unwrap();
    assert_eq!(code.relay_code(), "K7QF-2M9X-T4PA");
    let keys = c.ring.subset_for(&c.ann_grant, |_| false);
    let invite = seal_key_envelope(
        &code,
        COOP,
        &c.coord,
        &c.coord_grant,
        &c.ann_grant,
        &keys,
        &c.devices,
    )
    .unwrap();
    // Right code, typed sloppily.
    let typed = code
        .typed()
        .to_lowercase()
        .replace('-', " ")
        .replace('0', "o");
    let joined =
        open_key_envelope(&JoinCode::parse(&typed).unwrap(), COOP, &invite.envelope).unwrap();
    assert_eq!(joined.keys, keys);
    assert_eq!(joined.grant, c.ann_grant);
    assert_eq!(joined.inviter.device_id, c.coord.device_id());
    assert!(joined.devices.get(c.kiosk.device_id()).is_some());
    assert_eq!(*joined.proof_key, *invite.proof_key);

    // Same relay part, wrong secret part.
    let mut wrong = code.typed().to_string();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'Z' { 'Y' } else { 'Z' });
    assert_eq!(
        open_key_envelope(&JoinCode::parse(&wrong).unwrap(), COOP, &invite.envelope).unwrap_err(),
        CryptoError::WrongJoinCode
    );
    // Right code, another coop.
    assert_eq!(
        open_key_envelope(&code, "coop-other", &invite.envelope).unwrap_err(),
        CryptoError::WrongJoinCode
    );
    // Garbage.
    assert_eq!(
        JoinCode::parse("K7QF-2M9X-T4PA").unwrap_err(),
        CryptoError::MalformedJoinCode
    );
    assert_eq!(
        JoinCode::parse("UUUU").unwrap_err(),
        CryptoError::MalformedJoinCode
    );
    let mut cut = invite.envelope.clone();
    cut.truncate(10);
    assert_eq!(
        open_key_envelope(&code, COOP, &cut).unwrap_err(),
        CryptoError::Malformed
    );
}

#[test]
fn join_code_forms_parse_back() {
    let code = JoinCode::generate().unwrap();
    let typed = code.typed();
    assert_eq!(typed.len(), 29);
    assert_eq!(typed.split('-').count(), 6);
    let qr = code.qr();
    assert!(qr.starts_with("LOGBOOK1:"));
    assert!(
        qr.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b':')
    );
    for form in [
        typed.to_string(),
        qr.to_string(),
        qr.to_lowercase(),
        typed.replace('-', "  "),
    ] {
        assert_eq!(*JoinCode::parse(&form).unwrap().typed(), *typed);
    }
    assert_eq!(
        JoinCode::parse("oil0-1111-2222-3333-4444-5555")
            .unwrap()
            .relay_code(),
        "0110-1111-2222"
    );
    assert!(format!("{code:?}").find(&typed[15..]).is_none());
    // Codes differ.
    assert_ne!(*JoinCode::generate().unwrap().typed(), *typed);
}

#[test]
fn envelopes_and_wraps_only_carry_keys_the_roles_allow() {
    let c = coop();
    // A kiosk's envelope: no private timesheet key.
    let code = JoinCode::generate().unwrap();
    assert_eq!(
        seal_key_envelope(
            &code,
            COOP,
            &c.coord,
            &c.coord_grant,
            &c.kiosk_grant,
            &c.ring,
            &c.devices
        )
        .unwrap_err(),
        CryptoError::NotAllowed
    );
    let kiosk_keys = c.ring.subset_for(&c.kiosk_grant, |_| false);
    let invite = seal_key_envelope(
        &code,
        COOP,
        &c.coord,
        &c.coord_grant,
        &c.kiosk_grant,
        &kiosk_keys,
        &c.devices,
    )
    .unwrap();
    let joined = open_key_envelope(&code, COOP, &invite.envelope).unwrap();
    assert!(
        joined
            .keys
            .keys()
            .filter(|k| k.is_secret())
            .all(|k| k.id().scope == scope("site:cafe"))
    );
    // A wrapped timesheet private key for the kiosk is refused.
    let ts = c
        .ring
        .get(&ScopeKeyId {
            scope: scope("timesheet:ann"),
            version: 1,
        })
        .unwrap();
    let kiosk_pub = c.devices.get(c.kiosk.device_id()).unwrap();
    assert_eq!(
        wrap_scope_key(COOP, &c.coord, &c.coord_grant, kiosk_pub, ts).unwrap_err(),
        CryptoError::NotAllowed
    );
    // Its public half is fine (a new person at the café).
    let public = ScopeKey::Public(ts.public_key());
    let w = wrap_scope_key(COOP, &c.coord, &c.coord_grant, kiosk_pub, &public).unwrap();
    assert_eq!(
        unwrap_scope_key(COOP, &c.kiosk, &w, &c.devices).unwrap(),
        public
    );
}

#[test]
fn notes_key_goes_to_coordinator_only_from_the_person_side() {
    let c = coop();
    // Ann's phone creates her notes key and shares it with her supporter.
    let mut ann_ring = c.ring.subset_for(&c.ann_grant, |_| false);
    let notes = ann_ring.create_scope(scope("notes:ann")).unwrap();
    let supp = c.devices.get(c.supporter.device_id()).unwrap();
    let to_supp = wrap_scope_key(
        COOP,
        &c.ann,
        &c.ann_grant,
        supp,
        &ScopeKey::Secret(notes.clone()),
    )
    .unwrap();
    let mut supp_ring = KeyRing::new();
    supp_ring
        .insert(unwrap_scope_key(COOP, &c.supporter, &to_supp, &c.devices).unwrap())
        .unwrap();
    let doc = "notes:ann/thread-1";
    let sealed = seal_blob(
        &ctx(doc),
        &c.supporter,
        &supp_ring,
        b"met today",
        Compression::Auto,
    )
    .unwrap();
    assert_eq!(
        open_blob(&ctx(doc), &sealed.bytes, &ann_ring, &c.devices, None)
            .unwrap()
            .plaintext,
        b"met today"
    );

    // The coordinator has no notes key and cannot open.
    assert_eq!(
        open_blob(&ctx(doc), &sealed.bytes, &c.ring, &c.devices, None),
        Err(CryptoError::UnknownKeyVersion)
    );
    // Upon consent, Ann's phone wraps the key to the coordinator.
    let coord_pub = c.devices.get(c.coord.device_id()).unwrap();
    let to_coord = wrap_scope_key(
        COOP,
        &c.ann,
        &c.ann_grant,
        coord_pub,
        &ScopeKey::Secret(notes.clone()),
    )
    .unwrap();
    let mut coord_ring = c.ring.clone();
    coord_ring
        .insert(unwrap_scope_key(COOP, &c.coord, &to_coord, &c.devices).unwrap())
        .unwrap();
    assert!(open_blob(&ctx(doc), &sealed.bytes, &coord_ring, &c.devices, None).is_ok());
    // Someone else cannot unwrap the coordinator's copy.
    assert_eq!(
        unwrap_scope_key(COOP, &c.bob, &to_coord, &c.devices).unwrap_err(),
        CryptoError::CannotOpen
    );
    // A byte flipped in a wrapped key is caught.
    let mut bad = to_coord.clone();
    let n = bad.len();
    bad[n - 100] ^= 1;
    assert!(unwrap_scope_key(COOP, &c.coord, &bad, &c.devices).is_err());

    // A coordinator may not plant a notes key of its own on Ann's phone.
    let planted = ScopeSecretKey::generate_version(scope("notes:ann"), 2).unwrap();
    let ann_pub = c.devices.get(c.ann.device_id()).unwrap();
    assert_eq!(
        wrap_scope_key(
            COOP,
            &c.coord,
            &c.coord_grant,
            ann_pub,
            &ScopeKey::Secret(planted.clone())
        )
        .unwrap_err(),
        CryptoError::NotAllowed
    );
    // Even if its software lies about its grant, Ann's phone checks the directory.
    let lying = wrap_scope_key(
        COOP,
        &c.coord,
        &c.supporter_grant,
        ann_pub,
        &ScopeKey::Secret(planted),
    )
    .unwrap();
    assert_eq!(
        unwrap_scope_key(COOP, &c.ann, &lying, &c.devices).unwrap_err(),
        CryptoError::NotAllowed
    );
}

#[test]
fn rotation_new_blobs_need_new_key_old_blobs_open_with_kept_key() {
    let c = coop();
    let s = scope("records:ann");
    let doc = "records:ann/training";
    let old_only = c.ring.subset_for(&c.ann_grant, |_| false);
    let old = seal_blob(
        &ctx(doc),
        &c.coord,
        &c.ring,
        b"first aid 2025",
        Compression::Auto,
    )
    .unwrap();
    assert_eq!(old.key_id.version, 1);

    let mut ring = c.ring.clone();
    let v2 = ring.rotate(&s).unwrap();
    assert_eq!(v2.id().version, 2);
    let new = seal_blob(
        &ctx(doc),
        &c.coord,
        &ring,
        b"forklift 2026",
        Compression::Auto,
    )
    .unwrap();
    assert_eq!(
        new.key_id.to_string(),
        "records:ann#2",
        "writers seal to the newest version"
    );

    // A reader left with only version 1 (e.g. a revoked device) cannot read the new blob.
    assert_eq!(
        open_blob(&ctx(doc), &new.bytes, &old_only, &c.devices, None),
        Err(CryptoError::UnknownKeyVersion)
    );
    assert!(open_blob(&ctx(doc), &old.bytes, &old_only, &c.devices, None).is_ok());
    // The rotated ring keeps version 1 and reads both.
    assert_eq!(
        open_blob(&ctx(doc), &old.bytes, &ring, &c.devices, None)
            .unwrap()
            .plaintext,
        b"first aid 2025"
    );
    assert_eq!(
        open_blob(&ctx(doc), &new.bytes, &ring, &c.devices, None)
            .unwrap()
            .plaintext,
        b"forklift 2026"
    );
    // A reader given only version 2 reads new, not old.
    let mut only_new = KeyRing::new();
    only_new.insert(ScopeKey::Secret(v2.clone())).unwrap();
    assert!(open_blob(&ctx(doc), &new.bytes, &only_new, &c.devices, None).is_ok());
    assert_eq!(
        open_blob(&ctx(doc), &old.bytes, &only_new, &c.devices, None),
        Err(CryptoError::UnknownKeyVersion)
    );
    // Delivering version 2 by wrapping; a second, different version 2 is a conflict.
    let ann_pub = c.devices.get(c.ann.device_id()).unwrap();
    let w = wrap_scope_key(
        COOP,
        &c.coord,
        &c.coord_grant,
        ann_pub,
        &ScopeKey::Secret(v2),
    )
    .unwrap();
    let mut ann_ring = old_only.clone();
    ann_ring
        .insert(unwrap_scope_key(COOP, &c.ann, &w, &c.devices).unwrap())
        .unwrap();
    assert!(open_blob(&ctx(doc), &new.bytes, &ann_ring, &c.devices, None).is_ok());
    let rival = ScopeSecretKey::generate_version(s, 2).unwrap();
    assert_eq!(
        ann_ring.insert(ScopeKey::Secret(rival)),
        Err(CryptoError::KeyConflict)
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn assert_zeroize<T: Zeroize + ZeroizeOnDrop>() {}

#[test]
fn secret_types_zeroize_and_debug_prints_no_key_bytes() {
    assert_zeroize::<Identity>();
    assert_zeroize::<ScopeSecretKey>();
    assert_zeroize::<JoinCode>();

    let key = ScopeSecretKey::generate(scope("notes:ann")).unwrap();
    let stored = key.to_bytes();
    let secret = &stored[stored.len() - 32..];
    let ring = {
        let mut r = KeyRing::new();
        r.insert(ScopeKey::Secret(key.clone())).unwrap();
        r
    };
    let id = Identity::generate("dev-x").unwrap();
    let id_stored = id.to_bytes();
    let id_secrets = &id_stored[id_stored.len() - 64..];
    for (dbg, secrets) in [
        (format!("{key:?} {key:#?}"), secret),
        (format!("{ring:?} {ring:#?}"), secret),
        (format!("{:?}", ScopeKey::Secret(key.clone())), secret),
        (format!("{id:?} {id:#?}"), &id_secrets[..32]),
        (format!("{id:?} {id:#?}"), &id_secrets[32..]),
    ] {
        assert!(
            !dbg.to_lowercase().contains(&hex(secrets)),
            "hex key bytes in {dbg}"
        );
        assert!(
            !dbg.contains(format!("{:?}", &secrets[..4]).trim_matches(['[', ']'])),
            "key bytes in {dbg}"
        );
        assert!(
            dbg.contains("redacted") || dbg.contains("ScopeKey"),
            "{dbg}"
        );
    }
    let code = JoinCode::generate().unwrap();
    let typed = code.typed();
    let dbg = format!("{code:?}");
    assert!(
        !dbg.contains(&typed[..4]) && !dbg.contains(&typed[25..]),
        "{dbg}"
    );

    // zeroize() really clears the secret bytes.
    let mut k = key.clone();
    k.zeroize();
    let cleared = k.to_bytes();
    assert!(cleared[cleared.len() - 32..].iter().all(|b| *b == 0));
    let mut id2 = Identity::from_bytes(&id_stored).unwrap();
    id2.zeroize();
    let cleared = id2.to_bytes();
    assert!(cleared[cleared.len() - 64..].iter().all(|b| *b == 0));
}

#[test]
fn keys_serialise_and_deserialise() {
    let c = coop();
    // Identity: the restored one writes blobs the directory accepts.
    let back = Identity::from_bytes(&c.ann.to_bytes()).unwrap();
    assert_eq!(back.device_id(), c.ann.device_id());
    assert_eq!(
        back.public_keys(c.ann_grant.clone()),
        c.ann.public_keys(c.ann_grant.clone())
    );
    let sealed = seal_blob(&ctx(PUNCH_DOC), &back, &c.ring, b"tap", Compression::None).unwrap();
    assert!(open_blob(&ctx(PUNCH_DOC), &sealed.bytes, &c.ring, &c.devices, None).is_ok());

    let key = c.ring.secret(&scope("timesheet:ann"), 1).unwrap();
    assert_eq!(&ScopeSecretKey::from_bytes(&key.to_bytes()).unwrap(), key);
    let public = key.public_key();
    assert_eq!(
        ScopePublicKey::from_bytes(&public.to_bytes()).unwrap(),
        public
    );
    let mut ring = c.ring.clone();
    ring.rotate(&scope("directory")).unwrap();
    ring.insert(ScopeKey::Public(
        ScopeSecretKey::generate(scope("timesheet:cy"))
            .unwrap()
            .public_key(),
    ))
    .unwrap();
    assert_eq!(KeyRing::from_bytes(&ring.to_bytes()).unwrap(), ring);
    let device = c.devices.get(c.supporter.device_id()).unwrap();
    assert_eq!(
        &DevicePublicKeys::from_bytes(&device.to_bytes().unwrap()).unwrap(),
        device
    );
    assert_eq!(
        ScopeKeyId::parse("timesheet:ann#12").unwrap().to_string(),
        "timesheet:ann#12"
    );

    // Versioned: a wrong kind, a newer version, a truncation are refused.
    let stored = key.to_bytes();
    assert_eq!(
        ScopePublicKey::from_bytes(&stored).unwrap_err(),
        CryptoError::Malformed
    );
    let mut newer = stored.to_vec();
    newer[3] = 2;
    assert_eq!(
        ScopeSecretKey::from_bytes(&newer).unwrap_err(),
        CryptoError::UnsupportedVersion
    );
    assert_eq!(
        ScopeSecretKey::from_bytes(&stored[..stored.len() - 1]).unwrap_err(),
        CryptoError::Malformed
    );
    assert_eq!(
        KeyRing::from_bytes(b"LBK").unwrap_err(),
        CryptoError::Malformed
    );
}

#[test]
fn legacy_plaintext_automerge_is_recognised() {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "name", "Ann").unwrap();
    let snapshot = doc.save();
    doc.put(automerge::ROOT, "site", "cafe").unwrap();
    let change = doc.save_incremental();
    assert_eq!(classify(&snapshot), BlobKind::LegacyPlaintext);
    assert_eq!(classify(&change), BlobKind::LegacyPlaintext);

    let c = coop();
    let sealed = seal_blob(
        &ctx(PUNCH_DOC),
        &c.ann,
        &c.ring,
        &snapshot,
        Compression::Auto,
    )
    .unwrap();
    match classify(&sealed.bytes) {
        BlobKind::Sealed(h) => {
            assert_eq!(h.writer, c.ann.device_id());
            assert_eq!(h.key_version, 1);
        }
        other => panic!("{other:?}"),
    }
    let opened = open_blob(&ctx(PUNCH_DOC), &sealed.bytes, &c.ring, &c.devices, None).unwrap();
    assert_eq!(classify(&opened.plaintext), BlobKind::LegacyPlaintext);
    let mut newer = sealed.bytes.clone();
    newer[1] = 9;
    assert_eq!(classify(&newer), BlobKind::SealedNewer(9));
    assert_eq!(
        open_blob(&ctx(PUNCH_DOC), &newer, &c.ring, &c.devices, None),
        Err(CryptoError::UnsupportedVersion)
    );
    assert_eq!(classify(b""), BlobKind::Unknown);
    assert_eq!(classify(b"{\"json\":1}"), BlobKind::Unknown);
}

#[test]
fn join_proof_catches_swapped_device_keys() {
    let c = coop();
    let code = JoinCode::generate().unwrap();
    let keys = c.ring.subset_for(&c.ann_grant, |_| false);
    let invite = seal_key_envelope(
        &code,
        COOP,
        &c.coord,
        &c.coord_grant,
        &c.ann_grant,
        &keys,
        &c.devices,
    )
    .unwrap();
    let joined = open_key_envelope(&code, COOP, &invite.envelope).unwrap();
    let new_phone = Identity::generate("dev-ann2").unwrap();
    let mine = new_phone.public_keys(joined.grant.clone());
    let proof = join_proof(&joined.proof_key, COOP, &mine).unwrap();
    assert_eq!(
        verify_join_proof(&invite.proof_key, COOP, &mine, &proof),
        Ok(())
    );
    // A relay substituting its own keys for the new device's is caught.
    let relay_keys = Identity::generate("dev-ann2")
        .unwrap()
        .public_keys(joined.grant.clone());
    assert_eq!(
        verify_join_proof(&invite.proof_key, COOP, &relay_keys, &proof),
        Err(CryptoError::BadSignature)
    );
    // Or a changed grant.
    let promoted = Identity::from_bytes(&new_phone.to_bytes())
        .unwrap()
        .public_keys(c.coord_grant.clone());
    assert_eq!(
        verify_join_proof(&invite.proof_key, COOP, &promoted, &proof),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn errors_carry_no_personal_data() {
    let c = coop();
    let sealed = seal_blob(&ctx(PUNCH_DOC), &c.ann, &c.ring, b"tap", Compression::None).unwrap();
    let errors = [
        open_blob(
            &ctx("timesheet:ann/2026-12/x"),
            &sealed.bytes,
            &c.ring,
            &c.devices,
            None,
        )
        .unwrap_err(),
        open_blob(
            &ctx(PUNCH_DOC),
            &sealed.bytes,
            &KeyRing::new(),
            &c.devices,
            None,
        )
        .unwrap_err(),
        open_blob(
            &ctx(PUNCH_DOC),
            &sealed.bytes,
            &c.ring,
            &DeviceDirectory::new(),
            None,
        )
        .unwrap_err(),
        JoinCode::parse("K7QF-2M9X-T4PA").unwrap_err(),
    ];
    for e in errors {
        for m in [e.to_string(), format!("{e:?}")] {
            assert!(
                !m.contains("ann/")
                    && !m.contains("dev-")
                    && !m.contains("coop-")
                    && !m.contains("K7QF"),
                "{m}"
            );
        }
    }
    let _ = (&c.bob, &c.supporter);
}

#[test]
fn device_certificates_come_only_from_trusted_coordinators() {
    let c = coop();
    // Ann's new phone knows only the coordinator (from its join envelope).
    let mut dir = DeviceDirectory::new();
    dir.insert(c.devices.get(c.coord.device_id()).unwrap().clone())
        .unwrap();
    let kiosk_pub = c.devices.get(c.kiosk.device_id()).unwrap().clone();
    let cert = certify_device(COOP, &c.coord, &c.coord_grant, &kiosk_pub).unwrap();
    assert_eq!(dir.insert_certified(COOP, &cert).unwrap(), kiosk_pub);
    // Who signed it (to list the devices a revoked coordinator brought in).
    assert_eq!(certificate_issuer(&cert).unwrap(), c.coord.device_id());
    assert!(certificate_issuer(&cert[..3]).is_err());
    assert!(certificate_issuer(b"LBK\x01xx").is_err());
    assert_eq!(dir.get(c.kiosk.device_id()), Some(&kiosk_pub));
    // Another coop, a flipped byte: refused.
    assert_eq!(
        dir.insert_certified("coop-other", &cert).unwrap_err(),
        CryptoError::BadSignature
    );
    let mut bad = cert.clone();
    bad[20] ^= 1;
    assert!(dir.insert_certified(COOP, &bad).is_err());
    // A worker cannot certify; a relay-invented "coordinator" is unknown.
    assert_eq!(
        certify_device(COOP, &c.ann, &c.ann_grant, &kiosk_pub).unwrap_err(),
        CryptoError::NotAllowed
    );
    let fake = Identity::generate("dev-fakecoord").unwrap();
    let fake_cert = certify_device(COOP, &fake, &c.coord_grant, &kiosk_pub).unwrap();
    assert_eq!(
        dir.insert_certified(COOP, &fake_cert).unwrap_err(),
        CryptoError::UnknownWriter
    );
    // Certified as a worker, a device cannot certify others even if it claims otherwise.
    dir.insert(c.devices.get(c.ann.device_id()).unwrap().clone())
        .unwrap();
    let by_ann = certify_device(COOP, &c.ann, &c.coord_grant, &kiosk_pub).unwrap();
    assert_eq!(
        dir.insert_certified(COOP, &by_ann).unwrap_err(),
        CryptoError::NotAllowed
    );
    // A certificate swapping a known device's keys is a conflict; a new grant is an update.
    let swapped = Identity::generate(c.kiosk.device_id())
        .unwrap()
        .public_keys(c.kiosk_grant.clone());
    let cert = certify_device(COOP, &c.coord, &c.coord_grant, &swapped).unwrap();
    assert_eq!(
        dir.insert_certified(COOP, &cert).unwrap_err(),
        CryptoError::KeyConflict
    );
    let moved = DevicePublicKeys {
        grant: Grant {
            site: Some("bakery".into()),
            ..c.kiosk_grant.clone()
        },
        ..kiosk_pub
    };
    let cert = certify_device(COOP, &c.coord, &c.coord_grant, &moved).unwrap();
    dir.insert_certified(COOP, &cert).unwrap();
    assert_eq!(
        dir.get(c.kiosk.device_id()).unwrap().grant.site.as_deref(),
        Some("bakery")
    );
    // The directory survives its storage form.
    assert_eq!(
        DeviceDirectory::from_bytes(&dir.to_bytes().unwrap()).unwrap(),
        dir
    );
}
