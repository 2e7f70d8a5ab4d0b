"""A finished report's evidence is kept, apart from media and unchanged, whatever happens to the case."""

from __future__ import annotations

import hashlib
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from console.evidence import preservation, store
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.media import storage
from console.reporting.models import ExternalReport
from tests.evidence.helpers import FAST, World, record_of


@pytest.fixture
def world(ctx, ncmec_simulator):
    ctx.config.update(FAST)
    return World(ncmec_simulator)


def test_finishing_a_report_preserves_what_was_sent(world):
    report = world.finished_report(images=2)
    record = record_of(report)
    assert record.state == "preserved" and record.ncmec_report_id == report.ncmec_report_id
    assert record.preserve_until == preservation._one_year_after(report.finished_at)
    names = [i.name for i in record.items]
    assert names[0] == "report.xml"
    assert "files/1-fileDetails.xml" in names and "files/2-fileDetails.xml" in names
    assert {"ncmec/finish-reply.xml", "ncmec/replies.json", "snapshots/case.json"} <= set(names)
    assert "snapshots/reported-user.json" in names

    by_name = {i.name: i for i in record.items}
    with store.open_blob(by_name["report.xml"].sha256) as blob:
        assert blob.read().decode() == report.report_xml
    with store.open_blob(by_name["files/1-fileDetails.xml"].sha256) as blob:
        assert blob.read().decode() == report.files[0].fileinfo_xml
    with store.open_blob(by_name["ncmec/finish-reply.xml"].sha256) as blob:
        reply = blob.read().decode()
    assert "reportDoneResponse" in reply and report.ncmec_report_id in reply
    files = [i for i in record.items if i.kind == "file"]
    assert [f.sha256 for f in files] == [f.sha256 for f in report.files]
    assert [f.md5 for f in files] == [f.ncmec_md5 for f in report.files]
    for item in record.items:
        path = store.path_for(item.sha256)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256 == path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not path.is_relative_to(storage.media_root())


def test_evidence_survives_deleting_the_cases_media(world):
    report = world.finished_report(images=2)
    for media in report.case.media:  # taken down: the bytes are gone from the media store
        storage.remove_files(media)
    record = record_of(report)
    for item in (i for i in record.items if i.kind == "file"):
        assert store.check(item.sha256)


def test_a_failure_of_the_evidence_never_stops_the_finish(world, monkeypatch):
    def broken(*_a, **_kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(preservation, "_new_record", broken)
    report = world.finished_report(images=1)
    assert report.state == "finished" and world.simulator.reports("finished")
    assert record_of(report) is None
    monkeypatch.undo()

    assert preservation.sweep() == 1  # the sweep adds what the finish transaction could not
    assert record_of(report).state == "preserved"


def test_a_failed_copy_stays_pending_and_the_sweep_finishes_it(world, monkeypatch):
    def full(_stream, retain_until=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "put_stream", full)
    report = world.finished_report(images=1)
    assert report.state == "finished"
    record = record_of(report)
    assert record.state == "pending" and record.attempts == 1 and "No space left" in record.last_error
    monkeypatch.undo()

    preservation.sweep()
    record = record_of(report)
    assert record.state == "preserved" and record.items


def test_a_file_gone_before_it_was_copied_is_named_not_replaced(world, monkeypatch):
    monkeypatch.setattr(
        preservation, "preserve_after_finish", lambda _id: None
    )  # the worker died after finishing
    report = world.finished_report(images=2)
    storage.remove_files(report.files[1].media)
    path = storage.path_for(report.files[0].media)
    path.write_bytes(path.read_bytes() + b"changed")  # and one file changed since it was sent

    assert preservation.preserve(report.id) == "incomplete"
    record = record_of(report)
    assert not [i for i in record.items if i.kind == "file"]
    assert any("changed since it was sent" in p for p in record.problems)
    assert any("deleted before it could be copied" in p for p in record.problems)
    assert "report.xml" in [i.name for i in record.items]


def test_preserving_twice_changes_nothing(world):
    report = world.finished_report(images=1)
    before = [(i.name, i.sha256) for i in record_of(report).items]
    assert preservation.preserve(report.id) == "preserved"
    assert preservation.sweep() == 0
    assert [(i.name, i.sha256) for i in record_of(report).items] == before


def test_the_database_refuses_to_change_an_item(world):
    report = world.finished_report(images=1)
    item = record_of(report).items[0]
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(
            text("UPDATE evidence_items SET sha256 = :h WHERE id = :id"), {"h": "0" * 64, "id": item.id}
        )
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "days, finished, until",
    [
        (365, datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2027, 3, 1, 12, tzinfo=UTC)),
        (365, datetime(2027, 6, 1, tzinfo=UTC), datetime(2028, 6, 1, tzinfo=UTC)),  # a leap year: 366 days
        (30, datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)),  # never below a year
        (400, datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 4, 5, tzinfo=UTC)),  # longer when configured
        (365, datetime(2028, 2, 29, tzinfo=UTC), datetime(2029, 3, 1, tzinfo=UTC)),
    ],
)
def test_preserve_until_is_a_year_or_more(ctx, days, finished, until):
    ctx.config["EVIDENCE_PRESERVE_DAYS"] = days
    assert preservation.preserve_until(finished) == until


def test_the_store_refuses_to_live_under_media(ctx):
    ctx.config["EVIDENCE_ROOT"] = str(storage.media_root() / "evidence")
    with pytest.raises(store.StoreError):
        store.root()


def test_case_and_report_pages_show_the_date(world, client, auth):
    report = world.finished_report(images=1)
    until = record_of(report).preserve_until.strftime("%Y-%m-%d")
    auth.login("admin@example.org")
    for url in (f"/cases/{report.case_id}", f"/reports/{report.id}"):
        page = client.get(url)
        assert page.status_code == 200 and "preserved until" in page.text and until in page.text, url
    assert db.session.get(ExternalReport, report.id).state == "finished"
    assert db.session.scalar(db.select(db.func.count()).select_from(EvidenceRecord)) == 1
