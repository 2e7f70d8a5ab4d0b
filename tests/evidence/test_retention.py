"""Evidence is kept until its date, longer under a legal hold; a purge removes only what may go, on record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from console.audit import AuditEvent
from console.cases import service as cases
from console.evidence import retention, store
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile
from console.timeutil import utcnow
from tests import factories
from tests.evidence.helpers import FAST, World, record_of


@pytest.fixture
def world(ctx, ncmec_simulator):
    ctx.config.update(FAST)
    return World(ncmec_simulator)


def after_expiry(*reports) -> object:
    """A moment after every one of these reports' evidence expired."""
    return max(record_of(r).preserve_until for r in reports) + timedelta(minutes=1)


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def test_purge_removes_only_expired_unheld_evidence_and_records_it(world):
    old, young = world.finished_report(images=1), world.finished_report(images=1)
    young_record = record_of(young)
    young_record.preserve_until = young_record.preserve_until + timedelta(days=60)
    db.session.commit()
    now = after_expiry(old)
    old_items = [i.sha256 for i in record_of(old).items]

    assert retention.purge_expired(now) == [record_of(old).id]

    purged = record_of(old)
    assert purged.state == "purged" and purged.purged_at == now
    assert [i.sha256 for i in purged.items] == old_items  # what was kept stays on record, hashes included
    assert not any(store.exists(h) for h in old_items)
    assert all(store.check(i.sha256) for i in record_of(young).items)
    [event] = events("evidence_purged")
    assert event.object_id == str(purged.id) and event.details["report_id"] == old.id
    assert event.details["seal"] == purged.seal
    assert retention.purge_expired(now) == []  # nothing twice


def test_nothing_is_purged_before_its_date(world):
    report = world.finished_report(images=1)
    assert retention.purge_expired(record_of(report).preserve_until - timedelta(seconds=1)) == []
    assert record_of(report).state == "preserved"


def test_a_hold_on_the_report_blocks_the_purge_until_released(world):
    report = world.finished_report(images=1)
    now = after_expiry(report)
    hold = retention.place_hold(
        report_id=report.id, reason="Preservation request", reference="PR-2027-0042", actor=world.admin
    )
    assert retention.purge_expired(now) == []
    assert record_of(report).state == "preserved"

    retention.release_hold(hold.id, reason="The request was withdrawn", actor=world.admin)
    assert retention.purge_expired(now) == [record_of(report).id]
    placed, released = events("legal_hold_placed"), events("legal_hold_released")
    assert placed[0].details["reference"] == "PR-2027-0042" and placed[0].actor_id == world.admin.id
    assert released[0].details["reason"] == "The request was withdrawn"


def test_a_hold_on_a_reported_user_covers_all_their_reports(world):
    person = {"platform_id": "u-held", "name": "Held", "email": "held@platform.example"}
    first = world.finished_report(images=1, reported_user=person)
    other = world.finished_report(images=1)
    hold = retention.place_hold(
        reported_user_id=first.case.reported_user_id, reason="Subpoena", reference="SUB-7", actor=world.admin
    )
    later = world.finished_report(images=1, reported_user=person)  # finished after the hold: covered too
    now = after_expiry(first, other, later)

    assert retention.purge_expired(now) == [record_of(other).id]
    assert record_of(first).state == record_of(later).state == "preserved"
    assert hold.scope_label.startswith("everything of reported user")


def test_a_hold_with_an_end_date_stops_holding_after_it(world):
    report = world.finished_report(images=1)
    now = after_expiry(report)
    retention.place_hold(report_id=report.id, reason="Until trial", ends_at=now + timedelta(days=10))
    assert retention.purge_expired(now) == []
    assert retention.purge_expired(now + timedelta(days=11)) == [record_of(report).id]


def test_holds_refuse_what_makes_no_sense(world):
    report = world.finished_report(images=1)
    with pytest.raises(retention.HoldError, match="why"):
        retention.place_hold(report_id=report.id, reason=" ")
    with pytest.raises(retention.HoldError, match="future"):
        retention.place_hold(report_id=report.id, reason="x", ends_at=utcnow() - timedelta(days=1))
    retention.purge_expired(after_expiry(report))
    with pytest.raises(retention.HoldError, match="already purged"):
        retention.place_hold(report_id=report.id, reason="too late")
    hold = retention.place_hold(reported_user_id=report.case.reported_user_id, reason="user")
    retention.release_hold(hold.id, reason="done")
    with pytest.raises(retention.HoldError, match="already released"):
        retention.release_hold(hold.id, reason="again")


def test_media_of_no_violation_cases_is_deleted_after_the_configured_days(world, ctx):
    ctx.config["NO_VIOLATION_MEDIA_DAYS"] = 30
    reported = world.finished_report(images=1)
    evidence_files = [i.sha256 for i in record_of(reported).items if i.kind == "file"]
    old = factories.case(world.review, images=2)
    recent = factories.case(world.review, images=1)
    violation = factories.case(world.review, images=1)
    for case, verdict in ((old, "no_violation"), (recent, "no_violation"), (violation, "violation")):
        cases.decide(
            case.id, verdict, world.policies["spam"].id if verdict == "violation" else None, world.moderator
        )
    cases.reveal(old.media[0].id, old.id, world.moderator)
    recent.decided_at = utcnow() + timedelta(days=20)  # decided three weeks after the others
    old_paths = [storage.path_for(m) for m in old.media]
    db.session.commit()

    assert retention.delete_no_violation_media(utcnow() + timedelta(days=10)) == 0
    assert retention.delete_no_violation_media(utcnow() + timedelta(days=31)) == 2
    assert not any(p.exists() for p in old_paths)
    remaining = db.session.scalars(select(MediaFile.case_id)).all()
    assert old.id not in remaining and recent.id in remaining and violation.id in remaining
    [event] = events("media_deleted")
    assert event.case_id == old.id and len(event.details["files"]) == 2
    assert all(store.check(h) for h in evidence_files)  # evidence is never touched
    assert record_of(reported).state == "preserved"


def test_media_retention_is_off_by_default(world):
    case = factories.case(world.review, images=1)
    cases.decide(case.id, "no_violation", None, world.moderator)
    assert retention.delete_no_violation_media(utcnow() + timedelta(days=3650)) == 0


def test_the_retention_job_purges_and_deletes(world, app, monkeypatch):
    import jobs
    from jobs import evidence as evidence_jobs

    report = world.finished_report(images=1)
    record = record_of(report)
    record.preserve_until = utcnow() - timedelta(days=1)
    db.session.commit()
    jobs.use_app(app)
    assert evidence_jobs.retention() == {"purged": [record.id], "media_deleted": 0}
    assert db.session.get(EvidenceRecord, record.id).state == "purged"
