//! Through the FFI, a kiosk's taps need the person's PIN: `timesheets().clock_in` on a
//! kiosk is refused and writes nothing; `kiosk().punch` with the PIN records the tap; a
//! wrong PIN is `WrongPin` (with the tries left), not a role refusal.

use std::sync::Arc;

use logbook_core::PunchKind;
use logbook_ffi::sync::{DeviceRole, Grant};
use logbook_ffi::{Logbook, LogbookError};

fn open(dir: &std::path::Path, name: &str) -> Arc<Logbook> {
    Logbook::open_with_key(
        dir.join(name).to_string_lossy().into_owned(),
        &logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open")
}

#[test]
fn a_kiosk_tap_without_the_pin_is_refused_through_the_ffi() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let relay = logbook_relay::start(logbook_relay::RelayConfig::new(
            dir.path().join("relay"),
            "127.0.0.1:0".parse()?,
        ))
        .await?;
        let coop = logbook_relay::admin::create_coop(dir.path().join("relay"), "Test Co-op")?;
        let coord = open(dir.path(), "coordinator");
        coord.init_coop("Test Co-op".into(), "Europe/London".into())?;
        coord
            .sync()
            .join(relay.url(), coop.coordinator_code, "laptop".into(), None)
            .await?;
        let site = coord.directory().add_site("Cafe".into())?;
        let ann = coord
            .directory()
            .add_person("Ann".into(), vec![], vec![site.clone()], false)?;
        coord.directory().set_pin(ann.clone(), "1234".into())?;
        let invite = coord
            .sync()
            .invite(
                Grant {
                    role: DeviceRole::Kiosk,
                    person_id: None,
                    site_id: Some(site.clone()),
                    supports: vec![],
                },
                None,
            )
            .await?;
        coord.sync().run().await?;

        let kiosk = open(dir.path(), "kiosk");
        kiosk
            .sync()
            .join(relay.url(), invite.code, "cafe kiosk".into(), None)
            .await?;
        let before = kiosk.sync().pending_changes()?;
        match kiosk.timesheets().clock_in(ann.clone(), None) {
            Err(LogbookError::Forbidden { reason }) => assert!(reason.contains("PIN"), "{reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            kiosk.sync().pending_changes()?,
            before,
            "nothing was written"
        );
        match kiosk
            .kiosk()
            .punch(ann.clone(), "9999".into(), PunchKind::ClockIn, None)
        {
            Err(LogbookError::WrongPin { tries_left, .. }) => assert_eq!(tries_left, 4),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
        kiosk
            .kiosk()
            .punch(ann.clone(), "1234".into(), PunchKind::ClockIn, None)?;
        assert_eq!(kiosk.sync().pending_changes()?, before + 1);
        relay.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
