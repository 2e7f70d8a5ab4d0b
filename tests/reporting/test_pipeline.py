"""The filing state machine against the simulator over real HTTP: exactly one finished report per content."""

import hashlib

import pytest

from console.cases import service as cases
from console.evidence import replies
from console.extensions import db
from console.media import storage
from console.reporting import filing, pipeline, service, sweep
from console.reporting.models import ExternalReport, ReportContent
from tests import factories
from tests.factories import CSAM
from tests.ncmec_fixtures import wait_until_idle
from tests.reporting.helpers import connect_ncmec, reporting_setup, store_a_wrong_password

# The `fast` fixture (tests/reporting/conftest.py), tightened: the faults below time out after half a second.
FAST_CONFIG = {"NCMEC_READ_TIMEOUT": 0.5, "REPORT_LEASE_SECONDS": 30}


def make_report(rule, q, *, images=2, reveal_first=True, **case_kw):
    mod = factories.user("moderator")
    c = factories.case(q, images=images, **case_kw)
    if reveal_first and images:
        cases.reveal(c.media[0].id, c.id, mod)
    report, created = filing.create_report(c, rule, CSAM, triggered_by="human", created_by=mod)
    db.session.commit()
    assert created
    return c, report


def test_files_a_complete_report_with_two_files(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    c, report = make_report(
        rule,
        review,
        content_url="https://platform.example/p/9",
        reported_user={
            "platform_id": "u-9",
            "name": "Rex",
            "email": "rex@platform.example",
            "ip_events": [{"ip": "203.0.113.9", "at": "2026-11-01T10:00:00+00:00", "event": "Login"}],
        },
    )
    assert pipeline.drive(report.id) == "finished"

    db.session.expire_all()
    report = db.session.get(ExternalReport, report.id)
    assert report.state == "finished" and report.ncmec_report_id
    received = ncmec_simulator.report(report.ncmec_report_id)
    assert received["state"] == "finished"
    assert received["incident_type"] == CSAM
    xml = received["xml"]
    assert "https://platform.example/p/9" in xml and "u-9" in xml and "rex@platform.example" in xml
    assert "Rita" in xml and "rita@example.org" in xml and "203.0.113.9" in xml
    assert c.reported_at.strftime("%Y-%m-%dT%H:%M:%S") in xml
    files = received["files"]
    assert [f["md5"] for f in files] == [
        hashlib.md5(storage.path_for(m).read_bytes(), usedforsecurity=False).hexdigest() for m in c.media
    ]
    assert [f["file_viewed_by_esp"] for f in files] == [True, False]
    assert report.report_xml and all(f.fileinfo_xml for f in report.files)


def test_a_second_report_for_the_same_content_item_is_refused_by_the_database(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    c, report = make_report(rule, review)
    again, created = filing.create_report(c, rule, CSAM, triggered_by="human")
    assert not created and again.id == report.id
    # Another case with the same bytes is another item on the platform: its own report.
    twin = factories.case(review)
    with open(storage.path_for(c.media[0]), "rb") as fh, open(storage.path_for(c.media[1]), "rb") as fh2:
        storage.store(twin.id, "copy-a.png", fh, "image/png")
        storage.store(twin.id, "copy-b.png", fh2, "image/png")
    db.session.commit()
    db.session.refresh(twin)
    other, created = filing.create_report(twin, rule, CSAM, triggered_by="human")
    assert created and other.id != report.id
    db.session.commit()
    # Even bypassing the Python check, the unique index refuses it.
    from sqlalchemy.exc import IntegrityError

    clone = ExternalReport(
        agency_id=report.agency_id,
        case_id=twin.id,
        fingerprint=report.fingerprint,
        incident_type=CSAM,
        contact_first_name="a",
        contact_last_name="b",
        contact_email="c@d.e",
        payload={},
        contents=[ReportContent(agency_id=report.agency_id, case_id=twin.id, item=report.fingerprint)],
    )
    db.session.add(clone)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_report_runs_once_even_when_driven_twice(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    assert pipeline.drive(report.id) == "finished"
    assert pipeline.drive(report.id) is None  # finished reports are not claimable
    assert len(ncmec_simulator.reports("finished")) == 1
    assert ncmec_simulator.stats()["calls"].get("submit") == 1


@pytest.mark.parametrize("endpoint", ["submit", "upload", "fileinfo", "finish"])
@pytest.mark.parametrize("action", ["drop", "http_500", "timeout", "code"])
def test_faults_on_every_call_end_in_one_finished_report(ctx, fast, ncmec_simulator, endpoint, action):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    options = {"code": 1000} if action == "code" else {"timeout_ms": 900} if action == "timeout" else {}
    ncmec_simulator.set_fault(endpoint, action, times=1, **options)
    states = [pipeline.drive(report.id) for _ in range(4)]
    assert "finished" in states, states
    wait_until_idle(ncmec_simulator)  # a timed-out call is carried out late, after the client gave up
    assert sum(ncmec_simulator.stats()["faults_fired"].values()) == 1
    finished = ncmec_simulator.reports("finished")
    assert len(finished) == 1
    # Exactly the files we meant, each described: never a stray copy from an upload whose answer was lost.
    assert len(finished[0]["files"]) == 2
    assert all(f["details_received"] for f in finished[0]["files"])
    # Nothing else was finished; a lost /submit answer may leave one orphan open report, never finished; a
    # report that may hold a stray copy (lost /upload answer) is abandoned and retracted.
    unknown_outcome = action in ("drop", "timeout")
    abandoned = [r for r in ncmec_simulator.reports() if r["state"] == "retracted"]
    assert len(abandoned) == (1 if endpoint == "upload" and unknown_outcome else 0)
    assert all(r["state"] in ("open", "finished", "retracted") for r in ncmec_simulator.reports())
    orphans = [r for r in ncmec_simulator.reports() if r["state"] == "open"]
    assert all(not r["files"] for r in orphans)
    if endpoint == "submit" and unknown_outcome:
        assert len(orphans) == 1  # the server acted but we never learned the id


def test_wrong_credentials_park_the_report_until_an_admin_fixes_them(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    store_a_wrong_password()
    _c, report = make_report(rule, review)
    assert pipeline.drive(report.id) == "waiting_credentials"
    assert pipeline.drive(report.id) is None  # parked: no worker touches it
    connect_ncmec(ncmec_simulator)
    assert service.resume(report.id)
    assert pipeline.drive(report.id) == "finished"


def test_a_schema_error_fails_the_report_with_the_reason(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("submit", "code", code=4100, times=1)
    assert pipeline.drive(report.id) == "failed"
    db.session.expire_all()
    failed = db.session.get(ExternalReport, report.id)
    assert failed.error_kind == "data" and "4100" in failed.last_error
    assert service.resume(report.id) and pipeline.drive(report.id) == "finished"


def test_an_expired_report_at_ncmec_is_filed_again(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("finish", "code", code=5001, times=1)
    states = [pipeline.drive(report.id) for _ in range(2)]
    assert "finished" in states
    assert len(ncmec_simulator.reports("finished")) == 1


def test_a_finished_report_cannot_be_retracted(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    pipeline.drive(report.id)
    with pytest.raises(filing.ReportingError, match="cannot be withdrawn"):
        service.retract(report.id)


def test_retracting_an_open_report_frees_the_content(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    c, report = make_report(rule, review)
    ncmec_simulator.set_fault("finish", "http_500", times=5)
    pipeline.drive(report.id)
    assert service.retract(report.id, reason="test") == "retracted"
    # NCMEC's reply is kept for the package (on SQLite it waited 30 s for a write lock, then was lost).
    ncmec_id = db.session.get(ExternalReport, report.id).ncmec_report_id
    assert "retract" in [r.endpoint for r in replies.of_reports([ncmec_id])]
    assert [r["state"] for r in ncmec_simulator.reports()] == ["retracted"]
    again, created = filing.create_report(c, rule, CSAM, triggered_by="human")
    assert created and again.id != report.id


def test_the_sweep_re_enqueues_reports_nobody_drives(ctx, fast, ncmec_simulator):
    from datetime import timedelta

    from rq import Queue

    from console import tasks
    from console.timeutil import utcnow

    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    queue = Queue(ctx.config["RQ_QUEUE"], connection=tasks.redis_connection())
    queue.empty()
    # A worker claimed it and died: the lease is stale.
    db.session.execute(
        db.update(ExternalReport)
        .where(ExternalReport.id == report.id)
        .values(lease_owner="dead-worker", lease_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert sweep.sweep() == 1
    assert [j.args for j in queue.jobs] == [(report.id,)]
    queue.empty()


def test_the_sweep_leaves_a_report_whose_job_still_waits_and_enqueues_one_lost(ctx, fast, ncmec_simulator):
    """After Redis came back empty the workers took seconds to file what the sweep handed back; a sweep every
    2 s enqueued each report again meanwhile (824 jobs queued in the infrastructure trials)."""
    from console import tasks

    policies, review, rule = reporting_setup(ncmec_simulator)
    first, second = make_report(rule, review)[1].id, make_report(rule, review)[1].id
    queue = tasks.task_queue()
    queue.empty()
    ctx.config["SWEEP_GRACE_SECONDS"] = 0
    assert sweep.sweep() == 2  # nobody drives them: both enqueued
    for _ in range(3):  # still waiting in the queue: left alone however often the sweep runs
        assert sweep.sweep() == 0
    assert sorted(j.args for j in queue.jobs) == [(first,), (second,)]
    queue.remove(next(j for j in queue.jobs if j.args == (first,)))  # lost
    assert sweep.sweep() == 1
    assert sweep.sweep() == 0
    assert sorted(j.args for j in queue.jobs) == [(first,), (second,)]
    queue.empty()


def test_fixing_the_credentials_resumes_parked_reports(ctx, fast, ncmec_simulator):
    from console.reporting import agencies
    from console.settings import service as settings_service

    policies, review, rule = reporting_setup(ncmec_simulator)
    store_a_wrong_password()
    _c, report = make_report(rule, review)
    assert pipeline.drive(report.id) == "waiting_credentials"
    admin = factories.user("admin")
    settings_service.configure_agency(
        agencies.ncmec().id,
        environment="custom",
        custom_base_url=ncmec_simulator.base_url,
        username=ncmec_simulator.username,
        password=ncmec_simulator.password,
        actor=admin,
    )
    db.session.expire_all()
    assert db.session.get(ExternalReport, report.id).state == "queued"
    assert pipeline.drive(report.id) == "finished"


def test_a_failed_report_left_open_is_retracted_by_the_sweep(ctx, fast, ncmec_simulator):
    from datetime import timedelta

    from console.timeutil import utcnow

    policies, review, rule = reporting_setup(ncmec_simulator)
    c, report = make_report(rule, review)
    ncmec_simulator.set_fault("upload", "code", code=4200, times=1)
    assert pipeline.drive(report.id) == "failed"
    assert sweep.retract_abandoned() == []  # not yet: an admin may still retry it
    db.session.execute(
        db.update(ExternalReport)
        .where(ExternalReport.id == report.id)
        .values(updated_at=utcnow() - timedelta(hours=21))
    )
    db.session.commit()
    assert sweep.retract_abandoned() == [report.id]
    assert [r["state"] for r in ncmec_simulator.reports()] == ["retracted"]
    db.session.expire_all()
    assert db.session.get(ExternalReport, report.id).live is False


# --- what the real service answers, and what it never may cause -------------------------------------------


def test_the_services_1001_fails_the_report_with_its_own_words_and_no_retry(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("submit", "code", code=1001, times=1)
    assert pipeline.drive(report.id) == "failed"
    db.session.expire_all()
    failed = db.session.get(ExternalReport, report.id)
    assert failed.error_kind == "data" and "code=1001" in failed.last_error
    assert failed.next_attempt_at is None  # not scheduled again
    assert ncmec_simulator.stats()["calls"]["submit"] == 1


def test_an_undocumented_code_is_retried_a_bounded_number_of_times(ctx, fast, ncmec_simulator):
    ctx.config["REPORT_UNKNOWN_CODE_ATTEMPTS"] = 3
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("submit", "code", code=7777, times=None)  # forever
    states = [pipeline.drive(report.id) for _ in range(5)]
    assert states == ["queued", "queued", "failed", None, None]
    db.session.expire_all()
    parked = db.session.get(ExternalReport, report.id)
    assert parked.error_kind == "service" and "7777" in parked.last_error
    assert ncmec_simulator.stats()["calls"]["submit"] == 3
    ncmec_simulator.clear_faults()
    assert service.resume(report.id) and pipeline.drive(report.id) == "finished"


def test_retryable_failures_are_bounded_too(ctx, fast, ncmec_simulator):
    ctx.config["REPORT_MAX_ATTEMPTS"] = 4
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("submit", "http_500", times=None)
    states = [pipeline.drive(report.id) for _ in range(5)]
    assert states[-2:] == ["failed", None]
    db.session.expire_all()
    assert db.session.get(ExternalReport, report.id).error_kind == "retry"


def test_a_document_ncmec_would_refuse_is_never_sent_and_says_which_field(ctx, fast, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    # Old data from before the entry checks: a display name longer than NCMEC allows.
    user = {**report.payload["reported_user"], "name": "n" * 101}
    report.payload = {**report.payload, "reported_user": user}
    db.session.commit()
    assert pipeline.drive(report.id) == "failed"
    db.session.expire_all()
    failed = db.session.get(ExternalReport, report.id)
    assert failed.error_kind == "data"
    assert "Reported user › display name: is longer than 100 characters" in failed.last_error
    assert ncmec_simulator.stats()["calls"].get("submit", 0) == 0


def test_a_worker_killed_during_an_upload_files_anew_on_a_new_report(ctx, fast, ncmec_simulator):
    """The upload may have reached NCMEC before the kill: that open report is abandoned, never finished."""
    from console.reporting.models import ReportFile
    from console.timeutil import utcnow

    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("upload", "code", code=1000, times=None)
    pipeline.drive(report.id)  # submitted; the first upload failed before NCMEC stored anything
    ncmec_simulator.clear_faults()
    db.session.expire_all()
    first_id = db.session.get(ExternalReport, report.id).ncmec_report_id
    # What a SIGKILL after sending the upload leaves behind: the marker, no fileId.
    db.session.execute(
        db.update(ReportFile).where(ReportFile.report_id == report.id).values(upload_started_at=utcnow())
    )
    db.session.execute(db.update(ExternalReport).values(next_attempt_at=None, lease_owner=None))
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    db.session.expire_all()
    finished = db.session.get(ExternalReport, report.id)
    assert finished.ncmec_report_id != first_id
    assert finished.payload["retracted_ids"] == [first_id]
    assert ncmec_simulator.report(first_id)["state"] == "retracted"
    [done] = ncmec_simulator.reports("finished")
    assert len(done["files"]) == 2 and all(f["details_received"] for f in done["files"])


def test_restarts_are_bounded(ctx, fast, ncmec_simulator):
    ctx.config["REPORT_MAX_RESTARTS"] = 2
    policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review)
    ncmec_simulator.set_fault("upload", "drop", times=None)  # every upload's answer is lost
    states = [pipeline.drive(report.id) for _ in range(8)]
    assert "failed" in states and "finished" not in states
    db.session.expire_all()
    failed = db.session.get(ExternalReport, report.id)
    assert "filed anew 2 times" in failed.last_error
    assert ncmec_simulator.reports("finished") == []
