"""The same API as the Kotlin tests, from a second foreign language: a kiosk flow through a
real relay, the PIN lockout, typed errors, observers, reports and subject access."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import logbook_core as core
import logbook_ffi as ffi
from conftest import TEST_PASSPHRASE, run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Recorder(ffi.LogbookObserver):
    def __init__(self):
        self.heard = []

    def on_change(self, origin, scopes):
        self.heard.append((origin, list(scopes)))


async def small_coop(tmp_path, relay):
    """A coordinator joined to the relay with a site and a worker who has PIN 1234."""
    coordinator = ffi.Logbook.open_with_passphrase(str(tmp_path / "coordinator"), TEST_PASSPHRASE)
    coordinator.init_coop("Riverside Bakery Co-op", "Europe/London")
    await coordinator.sync().join(relay.url, relay.create_coop("Riverside Bakery Co-op"), "coordinator laptop")
    site = coordinator.directory().add_site("Bakery")
    aisha = coordinator.directory().add_person("Aisha", [core.PersonRole.WORKER], [site], False)
    coordinator.directory().set_pin(aisha, "1234")
    await coordinator.sync().run()
    return coordinator, site, aisha


async def join(tmp_path, relay, coordinator, name, grant):
    invite = await coordinator.sync().invite(grant)
    device = ffi.Logbook.open_with_passphrase(str(tmp_path / name), TEST_PASSPHRASE)
    await device.sync().join(relay.url, invite.code, name)
    # The inviting laptop's next sync recognises the new device by its join proof and
    # vouches for it, so the others can verify what it writes (docs/SECURITY.md).
    await coordinator.sync().run()
    return device


def test_a_kiosk_flow_ends_in_a_shift_the_coordinator_sees(tmp_path, relay):
    async def scenario():
        coordinator, site, aisha = await small_coop(tmp_path, relay)
        kiosk = await join(tmp_path, relay, coordinator, "kiosk", ffi.Grant(role=ffi.DeviceRole.KIOSK, site_id=site))
        assert [e.name for e in kiosk.kiosk().roster(None)] == ["Aisha"]
        clock_in = kiosk.kiosk().punch(aisha, "1234", core.PunchKind.CLOCK_IN)
        assert [e.person_id for e in kiosk.kiosk().on_shift()] == [aisha]
        time.sleep(1.1)  # taps are ordered in whole seconds
        kiosk.kiosk().punch(aisha, "1234", core.PunchKind.CLOCK_OUT)
        await kiosk.sync().run()
        assert kiosk.sync().pending_changes() == 0
        summary = await coordinator.sync().run()
        assert summary.pulled_blobs >= 1
        [shift] = coordinator.timesheets().shifts(aisha)
        assert shift.id == clock_in
        assert shift.status == core.ShiftStatus.COMPLETE

    run(scenario())


def test_wrong_pins_lock_a_person_out(tmp_path, relay):
    async def scenario():
        coordinator, site, aisha = await small_coop(tmp_path, relay)
        kiosk = await join(tmp_path, relay, coordinator, "kiosk", ffi.Grant(role=ffi.DeviceRole.KIOSK, site_id=site))
        allowed = coordinator.coop().settings.pin_max_failures
        for _ in range(allowed - 1):
            with pytest.raises(ffi.LogbookError.WrongPin):
                kiosk.kiosk().check_pin(aisha, "0000")
        with pytest.raises(ffi.LogbookError.LockedOut) as locked:
            kiosk.kiosk().check_pin(aisha, "0000")
        assert 14 * 60 < locked.value.retry_after_seconds <= 15 * 60
        with pytest.raises(ffi.LogbookError.LockedOut):
            kiosk.kiosk().punch(aisha, "1234", core.PunchKind.CLOCK_IN)
        assert kiosk.kiosk().on_shift() == []

    run(scenario())


def test_errors_are_typed_and_readable(tmp_path):
    book = ffi.Logbook.open_with_passphrase(str(tmp_path / "fresh"), TEST_PASSPHRASE)
    with pytest.raises(ffi.LogbookError.NotInitialised):
        book.coop()
    with pytest.raises(ffi.LogbookError.Invalid) as bad_zone:
        book.init_coop("Bakery", "Mars/Olympus")
    assert "time zone" in bad_zone.value.reason
    assert "time zone" in str(bad_zone.value)
    book.init_coop("Bakery", "Europe/Rome")
    with pytest.raises(ffi.LogbookError.NotFound):
        book.timesheets().clock_in("p-nobody")
    with pytest.raises(ffi.LogbookError.Conflict):
        run(book.sync().run())
    # Every variant is a LogbookError.
    with pytest.raises(ffi.LogbookError):
        book.reports().hours("2026-13-01", "2026-12-31")


def test_an_observer_hears_local_writes_and_a_sync(tmp_path, relay):
    async def scenario():
        coordinator, site, aisha = await small_coop(tmp_path, relay)
        phone = await join(tmp_path, relay, coordinator, "phone", ffi.Grant(role=ffi.DeviceRole.WORKER, person_id=aisha))
        local, remote = Recorder(), Recorder()
        local_sub = phone.subscribe(local)
        remote_sub = coordinator.subscribe(remote)
        phone.timesheets().clock_in(aisha)
        assert local.heard == [(core.ChangeOrigin.LOCAL, [f"timesheet:{aisha}"])]
        await phone.sync().run()
        await coordinator.sync().run()
        assert any(o == core.ChangeOrigin.SYNC and f"timesheet:{aisha}" in s for o, s in remote.heard)
        # The phone's own sync also told it about its sync status ("device"), so count
        # what was heard up to the cancel: nothing more after it.
        heard = len(local.heard)
        local_sub.cancel()
        assert not local_sub.is_active()
        phone.timesheets().clock_out(aisha)
        assert len(local.heard) == heard
        remote_sub.cancel()

    run(scenario())


def backfill(book, person, days=5):
    """Five 8-hour paid shifts, Monday-Friday 2-6 November 2026 (09:00-17:00 UTC)."""
    monday = 1_793_577_600
    for d in range(days):
        at = monday + d * 86_400 + 9 * 3600
        book.timesheets().punch(person, core.PunchKind.CLOCK_IN, core.PunchSource.COORDINATOR, at=at)
        book.timesheets().punch(person, core.PunchKind.CLOCK_OUT, core.PunchSource.COORDINATOR, at=at + 8 * 3600)


def test_hours_report_csv_and_subject_access_export(standalone):
    book, site, ben = standalone
    backfill(book, ben)
    [row] = book.reports().hours("2026-11-01", "2026-11-30")
    assert (row.person_name, row.hour_type, row.shifts, row.minutes) == ("Ben", core.HourType.PAID, 5, 5 * 8 * 60)
    csv = book.reports().hours_csv("2026-11-01", "2026-11-30").splitlines()
    assert csv[0] == "person_id,person_name,hour_type,shifts,minutes"
    assert csv[1] == f"{ben},Ben,paid,5,2400"
    export = json.loads(book.reports().export_person(ben))
    assert export["person"]["name"] == "Ben"
    assert len(export["shifts"]) == 5


def test_training_cpo_and_notes(standalone):
    book, site, ben = standalone
    course = book.training().add_course("Food hygiene", review_months=24)
    book.training().add(core.NewTraining(
        person_id=ben, course=course, date="2026-11-03", minutes=180, provider=None,
        certificate_ref="FH-1", expires_on=None, trainee_signed=True, supervisor_signed=True))
    [record] = book.training().records(ben)
    assert record.expires_on == "2028-11-03"
    order = book.cpo().set_order(ben, 60, "2026-11-02")
    [progress] = book.cpo().progress(ben)
    assert progress.order_id == order and progress.hours_ordered == 60
    thread = book.notes().add(ben, "Settling in well; wants more morning shifts.")
    book.notes().reply(thread, "Moved to mornings from next week.")
    [t] = book.notes().threads(ben)
    # Entries are ordered by time (whole seconds), then id: compare as a set.
    assert {e.text for e in t.entries} == {
        "Settling in well; wants more morning shifts.", "Moved to mornings from next week."}
    run(book.notes().set_consent(ben, True))
    assert book.notes().consent(ben) is True


def test_the_hours_report_example_prints_csv(standalone, tmp_path):
    book, site, ben = standalone
    backfill(book, ben)
    home = str(tmp_path / "standalone")
    del book  # the script opens the same store
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "hours_report.py"), home, "2026-11"],
        check=True, capture_output=True, text=True, timeout=60,
        env={**os.environ, "LOGBOOK_PASSPHRASE": TEST_PASSPHRASE},
    ).stdout
    assert out.splitlines()[0] == "person_id,person_name,hour_type,shifts,minutes"
    assert out.splitlines()[1].endswith(",Ben,paid,5,2400")


def test_a_cancelled_sync_leaves_the_store_consistent(tmp_path, relay):
    async def scenario():
        import asyncio

        coordinator, site, aisha = await small_coop(tmp_path, relay)
        phone = await join(tmp_path, relay, coordinator, "phone", ffi.Grant(role=ffi.DeviceRole.WORKER, person_id=aisha))
        start = int(time.time()) - 400 * 86_400
        for i in range(120):
            at = start + i * 3 * 86_400
            phone.timesheets().punch(aisha, core.PunchKind.CLOCK_IN, core.PunchSource.PHONE, at=at)
            phone.timesheets().punch(aisha, core.PunchKind.CLOCK_OUT, core.PunchSource.PHONE, at=at + 3600)
        queued = phone.sync().pending_changes()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(phone.sync().run(), timeout=0.001)
        assert phone.check_integrity()
        assert phone.sync().pending_changes() <= queued
        await phone.sync().run()
        assert phone.sync().pending_changes() == 0
        await coordinator.sync().run()
        assert len(coordinator.timesheets().shifts(aisha)) == 120

    run(scenario())


def test_breaks_are_subtracted(standalone):
    book, site, ben = standalone
    ts = book.timesheets()
    with pytest.raises(ffi.LogbookError.Conflict):
        ts.start_break(ben)  # not clocked in
    day = 1_793_577_600 + 9 * 3600  # Monday 2026-11-02 09:00 UTC
    ts.punch(ben, core.PunchKind.CLOCK_IN, core.PunchSource.PHONE, at=day)
    ts.punch(ben, core.PunchKind.BREAK_START, core.PunchSource.PHONE, at=day + 3 * 3600)
    ts.punch(ben, core.PunchKind.BREAK_END, core.PunchSource.PHONE, at=day + 3 * 3600 + 1800)
    ts.punch(ben, core.PunchKind.CLOCK_OUT, core.PunchSource.PHONE, at=day + 8 * 3600)
    [shift] = ts.shifts(ben, from_date="2026-11-02", to_date="2026-11-02")
    assert shift.break_seconds == 1800
    assert shift.counted_seconds == 8 * 3600 - 1800


def test_impact_summary_json_and_headcount_return(standalone):
    """Five people work the week of 2 November 2026 (5 x 8 h paid each); only Ben also
    volunteers, so the volunteering figure is about fewer than 5 people and is withheld."""
    book, site, ben = standalone
    people = [ben] + [
        book.directory().add_person(name, [core.PersonRole.WORKER], [site], name == "Cy")
        for name in ("Ada", "Cy", "Dee", "Eli")
    ]
    for p in people:
        backfill(book, p)
    saturday = 1_793_577_600 + 5 * 86_400 + 10 * 3600  # Sat 7 Nov 10:00 UTC
    ts = book.timesheets()
    ts.punch(ben, core.PunchKind.CLOCK_IN, core.PunchSource.COORDINATOR, at=saturday,
             hour_type=core.HourType.VOLUNTEER)
    ts.punch(ben, core.PunchKind.CLOCK_OUT, core.PunchSource.COORDINATOR, at=saturday + 2 * 3600)

    summary = json.loads(book.reports().impact_json("2026-11-01", "2026-11-30"))
    assert summary["people_supported"] == 5
    assert summary["paid_minutes"] == 5 * 5 * 8 * 60  # 12 000
    assert summary["volunteer_minutes"] == "fewer than 5"
    assert summary["training_minutes"] == 0
    week = next(w for w in summary["weeks"] if w["week_start"] == "2026-11-02")
    assert week["paid_minutes"] == 12_000 and week["volunteer_minutes"] == "fewer than 5"
    for name in ("Ben", "Ada", "Cy", "Dee", "Eli"):
        assert name not in json.dumps(summary)
    typed = book.reports().impact("2026-11-01", "2026-11-30")
    assert typed.paid_minutes.value == 12_000 and typed.volunteer_minutes.value is None
    assert book.reports().impact_pdf("2026-11-01", "2026-11-30").startswith(b"%PDF-")

    # November: 5 paid heads, Cy disadvantaged: 20 %, under the 30 % minimum.
    r = book.reports().headcount(2026)
    november = next(m for m in r.months if m.month == "2026-11")
    assert (november.workers, november.disadvantaged) == (5, 1)
    assert abs(r.percent - 20.0) < 1e-9
    assert not r.meets_minimum and "under the 30%" in r.warning
    csv = book.reports().headcount_csv(2026).splitlines()
    assert csv[0] == "row,period,workers,disadvantaged,percent,minimum_percent,meets_minimum"
    assert "month,2026-11,5,1,20.0,," in csv
    with pytest.raises(ffi.LogbookError.Invalid):
        book.reports().headcount(3000)


class FixedKeys(ffi.StoreKeyProvider):
    """A platform key store stand-in: one fixed 32-byte key, and a record of the asks."""

    def __init__(self, key):
        self.key = key
        self.asked = []

    def store_key(self, home):
        self.asked.append(home)
        return self.key


def test_a_store_opens_with_the_key_its_provider_gives_and_refuses_another(tmp_path):
    home = str(tmp_path / "keyed")
    keys = FixedKeys(bytes(range(32)))
    book = ffi.Logbook.open(home, keys)
    assert keys.asked == [home]
    book.init_coop("Bakery", "Europe/London")
    book.directory().add_person("Marker Person Zebedee", [core.PersonRole.WORKER], [], False)
    del book
    for name in ("logbook.sqlite3", "logbook.sqlite3-wal"):
        path = tmp_path / "keyed" / name
        if path.exists():
            assert b"Zebedee" not in path.read_bytes()
    with pytest.raises(ffi.LogbookError.WrongKey):
        ffi.Logbook.open(home, FixedKeys(bytes(32)))
    with pytest.raises(ffi.LogbookError.Invalid):
        ffi.Logbook.open(str(tmp_path / "short"), FixedKeys(b"too short"))
    again = ffi.Logbook.open(home, keys)
    assert [p.name for p in again.directory().people()] == ["Marker Person Zebedee"]
