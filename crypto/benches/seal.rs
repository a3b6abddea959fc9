//! Cost of sealing: bytes added per blob, µs to seal+sign, to verify only (what the relay
//! does on push) and to verify+open, for a 250-byte blob (a punch) and a 4 KB blob, plus
//! the one-off costs (join envelope, wrap).
//! Run: `cargo bench -p logbook-crypto --bench seal` (prints a table; not a test).

use logbook_crypto::*;
use std::hint::black_box;
use std::time::Instant;

const COOP: &str = "coop-7hq2k9x3m1t4p8vd";
const DOC: &str = "timesheet:ann/2026-11/dev-3k9q2m7x4t1p8h5n";

/// Incompressible bytes (worst case for size).
fn random_like(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A real automerge chunk of roughly `n` bytes: punches as a map of small maps.
fn automerge_like(n: usize) -> Vec<u8> {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new();
    let punches = doc
        .put_object(automerge::ROOT, "punches", automerge::ObjType::Map)
        .expect("bench setup");
    let mut i = 0u64;
    loop {
        let p = doc
            .put_object(
                &punches,
                format!("{:013}-{i:04x}", 1_795_000_000_000u64 + i * 61_000),
                automerge::ObjType::Map,
            )
            .expect("bench setup");
        doc.put(&p, "kind", if i.is_multiple_of(2) { "in" } else { "out" })
            .expect("bench setup");
        doc.put(&p, "at", 1_795_000_000_000i64 + i as i64 * 61_000)
            .expect("bench setup");
        doc.put(&p, "device", "dev-3k9q2m7x4t1p8h5n")
            .expect("bench setup");
        doc.put(&p, "source", "kiosk").expect("bench setup");
        i += 1;
        if doc.save().len() >= n {
            return doc.save();
        }
    }
}

fn time_us(iters: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(iters)
}

fn main() {
    let writer = Identity::generate("dev-3k9q2m7x4t1p8h5n").expect("bench setup");
    let grant = Grant {
        role: Role::Worker,
        person: Some("ann".into()),
        site: None,
        supports: vec![],
    };
    let mut devices = DeviceDirectory::new();
    devices
        .insert(writer.public_keys(grant.clone()))
        .expect("bench setup");
    let mut ring = KeyRing::new();
    ring.create_scope(Scope::Timesheet("ann".into()))
        .expect("bench setup");
    let ctx = BlobContext::new(COOP, DOC).expect("bench setup");

    println!(
        "logbook-crypto seal bench (writer id {} bytes)",
        writer.device_id().len()
    );
    println!(
        "{:<22} {:>7} {:>8} {:>8} {:>12} {:>12} {:>12}",
        "plaintext", "bytes", "sealed", "added", "seal+sign", "verify", "verify+open"
    );
    for (label, pt) in [
        ("random 250 B", random_like(250)),
        ("random 4 KB", random_like(4096)),
        ("automerge ~250 B", automerge_like(250)),
        ("automerge ~4 KB", automerge_like(4096)),
    ] {
        for compression in [Compression::None, Compression::Auto] {
            let sealed = seal_blob(&ctx, &writer, &ring, &pt, compression).expect("seal");
            let seal_us = time_us(2000, || {
                black_box(
                    seal_blob(&ctx, &writer, &ring, black_box(&pt), compression).expect("seal"),
                );
            });
            let verify_us = time_us(2000, || {
                black_box(verify_blob(&ctx, black_box(&sealed.bytes), &devices).expect("verify"));
            });
            let open_us = time_us(2000, || {
                black_box(
                    open_blob(&ctx, black_box(&sealed.bytes), &ring, &devices, None).expect("open"),
                );
            });
            println!(
                "{:<22} {:>7} {:>8} {:>+8} {:>9.1} µs {:>9.1} µs {:>9.1} µs",
                format!(
                    "{label} {}",
                    if compression == Compression::None {
                        "raw"
                    } else {
                        "auto"
                    }
                ),
                pt.len(),
                sealed.bytes.len(),
                sealed.bytes.len() as i64 - pt.len() as i64,
                seal_us,
                verify_us,
                open_us
            );
        }
    }

    // One-off costs.
    let coord = Identity::generate("dev-coord").expect("bench setup");
    let coord_grant = Grant {
        role: Role::Coordinator,
        person: None,
        site: None,
        supports: vec![],
    };
    devices
        .insert(coord.public_keys(coord_grant.clone()))
        .expect("bench setup");
    let mut big = KeyRing::new();
    for p in 0..100 {
        for s in ["timesheet", "review", "records"] {
            big.create_scope(Scope::parse(&format!("{s}:p{p}")).expect("scope"))
                .expect("bench setup");
        }
    }
    big.create_scope(Scope::Directory).expect("bench setup");
    let code = JoinCode::generate().expect("bench setup");
    let t = Instant::now();
    let invite = seal_key_envelope(
        &code,
        COOP,
        &coord,
        &coord_grant,
        &coord_grant,
        &big,
        &devices,
    )
    .expect("envelope");
    let seal_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    black_box(open_key_envelope(&code, COOP, &invite.envelope).expect("open envelope"));
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "join envelope, coordinator, 301 scope keys: {} bytes, seal {seal_ms:.0} ms, open {open_ms:.0} ms (Argon2id 64 MiB, t=3)",
        invite.envelope.len()
    );
    let key = ScopeKey::Secret(
        ring.secret(&Scope::Timesheet("ann".into()), 1)
            .expect("key")
            .clone(),
    );
    let me = devices.get(writer.device_id()).expect("me").clone();
    let wrapped = wrap_scope_key(COOP, &coord, &coord_grant, &me, &key).expect("wrap");
    let wrap_us = time_us(1000, || {
        black_box(wrap_scope_key(COOP, &coord, &coord_grant, &me, &key).expect("wrap"));
    });
    let unwrap_us = time_us(1000, || {
        black_box(unwrap_scope_key(COOP, &writer, &wrapped, &devices).expect("unwrap"));
    });
    println!(
        "wrapped scope key: {} bytes, wrap {wrap_us:.1} µs, unwrap {unwrap_us:.1} µs",
        wrapped.len()
    );

    // Revocation rotates (docs/SECURITY.md): a coordinator whose coop has 100 people
    // revokes a coordinator laptop (every one of the 301 scopes rotates) and delivers the
    // new versions to 10 remaining devices that may hold them; a worker's phone (4 scopes:
    // directory and the person's timesheet, review, records) likewise.
    for (label, scopes) in [
        (
            "a coordinator (301 scopes)",
            big.scopes().cloned().collect::<Vec<_>>(),
        ),
        (
            "a worker's phone (4 scopes)",
            vec![
                Scope::Directory,
                Scope::Timesheet("p1".into()),
                Scope::Review("p1".into()),
                Scope::Records("p1".into()),
            ],
        ),
    ] {
        let mut ring = big.clone();
        let t = Instant::now();
        let mut new_keys = Vec::new();
        for scope in &scopes {
            new_keys.push(ScopeKey::Secret(ring.rotate(scope).expect("rotate")));
        }
        let rotate_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..10 {
            for key in &new_keys {
                bytes +=
                    wrap_scope_key(COOP, &coord, &coord_grant, &me_coord(&devices, &coord), key)
                        .expect("wrap")
                        .len();
            }
        }
        let wrap_ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "revoking {label}: rotate {rotate_ms:.1} ms, wrap to 10 devices {wrap_ms:.0} ms, {} KB of wrapped keys",
            bytes / 1024
        );
    }
    // Opening with a ring that holds many versions of the scope (after rotations) costs
    // the same: the blob names its version.
    let mut rotated = ring.clone();
    for _ in 0..20 {
        rotated
            .rotate(&Scope::Timesheet("ann".into()))
            .expect("rotate");
    }
    let pt = automerge_like(250);
    let sealed = seal_blob(&ctx, &writer, &rotated, &pt, Compression::Auto).expect("seal");
    let open_us = time_us(2000, || {
        black_box(
            open_blob(&ctx, black_box(&sealed.bytes), &rotated, &devices, None).expect("open"),
        );
    });
    println!(
        "after 20 rotations: sealed {} bytes (+{}), verify+open {open_us:.1} µs",
        sealed.bytes.len(),
        sealed.bytes.len() - pt.len()
    );
}

/// The coordinator's own public keys (a coordinator may hold every scope it issues).
fn me_coord(devices: &DeviceDirectory, coord: &Identity) -> DevicePublicKeys {
    devices.get(coord.device_id()).expect("coordinator").clone()
}
