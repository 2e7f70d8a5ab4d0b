"""The filing job files; what a finished report sets going (its evidence preserved, its hashes banked, the
platform asked to preserve the account) are jobs of their own, promised by rows in the finish's transaction
(console/reporting/follow_ups.py). Nothing is lost when a worker dies between the filing job and them, and
each runs once per report however often it is delivered — with real `rq worker` processes of the production
class, SIGKILL and a queue that loses its jobs.
"""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import func, select

from console import tasks
from console.audit import AuditEvent
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.hashbank.models import HashSource
from console.reporting import filing, follow_ups, pipeline
from console.reporting import sweep as reports_sweep
from console.reporting.models import ExternalReport, ReportFollowUp
from console.webhooks.models import WebhookEvent
from tests import factories
from tests.factories import CSAM
from tests.reporting import fault_harness as fh
from tests.reporting.helpers import FOLLOW_UP_JOBS, reporting_setup, run_follow_ups
from tests.webhooks.conftest import SECRET, setup_platform
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def receiver():
    r = Receiver([SECRET]).start()
    yield r
    r.stop()


@pytest.fixture
def world(ctx, ncmec_simulator, receiver):
    """NCMEC (the simulator), a rule whose finished reports ask the platform (the receiver) to preserve."""
    ctx.config.update(fh.FAST)
    policies, review, rule = reporting_setup(ncmec_simulator)
    platform = setup_platform(ctx, receiver, policies)
    rule.preservation_endpoint_id = platform["endpoint"].id
    db.session.commit()
    return {"review": review, "rule": rule, "moderator": factories.user("moderator")}


def _report(world, images: int = 1) -> int:
    from console.cases import service as cases

    case = factories.case(world["review"], images=images)
    if images:
        cases.reveal(case.media[0].id, case.id, world["moderator"])
    report, created = filing.create_report(
        case, world["rule"], CSAM, triggered_by="human", created_by=world["moderator"]
    )
    assert created
    report_id = report.id
    db.session.commit()  # and no transaction left open: on SQLite it would lock the workers out
    return report_id


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_done_once(report_ids: list[int]) -> None:
    """Every follow-up of every report done, and each one's effect there exactly once."""
    db.session.rollback()
    rows = db.session.execute(
        select(ReportFollowUp.report_id, ReportFollowUp.job, ReportFollowUp.state).where(
            ReportFollowUp.report_id.in_(report_ids)
        )
    ).all()
    assert sorted((r, j) for r, j, _s in rows) == sorted((r, j) for r in report_ids for j in FOLLOW_UP_JOBS)
    assert {s for _r, _j, s in rows} == {"done"}, rows
    for report_id in report_ids:
        record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
        assert record is not None and record.state == "preserved", (report_id, record and record.state)
        preserved = _count(
            AuditEvent, AuditEvent.action == "evidence_preserved", AuditEvent.object_id == str(record.id)
        )
        assert preserved == 1, (report_id, preserved)
        assert _count(HashSource, HashSource.report_id == report_id) == 1
        banked = _count(
            AuditEvent, AuditEvent.action == "report_hashes_banked", AuditEvent.object_id == str(report_id)
        )
        assert banked == 1, (report_id, banked)
        asked = _count(
            WebhookEvent, WebhookEvent.report_id == report_id, WebhookEvent.type == "preservation.request"
        )
        assert asked == 1, (report_id, asked)
    db.session.rollback()


def _sweep_until_done(report_ids: list[int], deadline: float) -> None:
    while time.monotonic() < deadline:
        db.session.rollback()
        pending = _count(
            ReportFollowUp, ReportFollowUp.report_id.in_(report_ids), ReportFollowUp.state == "pending"
        )
        unfinished = _count(
            ExternalReport, ExternalReport.id.in_(report_ids), ExternalReport.state != "finished"
        )
        if not pending and not unfinished:
            return
        reports_sweep.sweep()
        follow_ups.sweep()
        db.session.rollback()
        time.sleep(0.3)


def _follow_up_jobs_queued() -> list[str]:
    return [j.func_name for j in tasks.follow_up_queue().get_jobs() if j.func_name in FOLLOW_UP_JOBS]


# --- in one process -----------------------------------------------------------------------------------------


def test_the_finish_promises_its_follow_ups_and_the_filing_job_does_none_of_them(world):
    report_id = _report(world)
    assert pipeline.drive(report_id) == "finished"
    db.session.rollback()
    pending = db.session.scalars(
        select(ReportFollowUp.job).where(
            ReportFollowUp.report_id == report_id, ReportFollowUp.state == "pending"
        )
    ).all()
    assert sorted(pending) == sorted(FOLLOW_UP_JOBS)
    assert sorted(_follow_up_jobs_queued()) == sorted(FOLLOW_UP_JOBS)  # enqueued after the commit
    # The filing job did none of the work: the evidence is promised (pending, with /finish's reply) only.
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
    assert record.state == "pending" and record.finish_reply.get("response_code") == 0
    assert _count(HashSource) == 0 and _count(WebhookEvent, WebhookEvent.report_id == report_id) == 0
    assert run_follow_ups() == 3
    assert_done_once([report_id])


def test_each_follow_up_runs_once_however_often_it_is_delivered(world):
    report_id = _report(world)
    assert pipeline.drive(report_id) == "finished"
    run_follow_ups()
    # Delivered again: by hand, and by a sweep that finds nothing pending.
    for _ in range(2):
        tasks.enqueue_many([tasks.Job(job, (report_id,)) for job in FOLLOW_UP_JOBS], follow_ups=True)
    assert run_follow_ups() == 6
    assert follow_ups.sweep() == 0
    assert_done_once([report_id])


def test_a_failing_follow_up_stays_pending_and_the_sweep_enqueues_it_again(world, monkeypatch, ctx):
    from console.webhooks import service

    report_id = _report(world)
    assert pipeline.drive(report_id) == "finished"

    def down(_report_id):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(service, "ask_preservation", down)
    with pytest.raises(RuntimeError):
        run_follow_ups()
    row = db.session.get(ReportFollowUp, (report_id, "jobs.webhooks.ask_preservation"))
    assert row.state == "pending" and row.attempts == 1 and "said no" in row.last_error
    monkeypatch.undo()
    ctx.config["SWEEP_GRACE_SECONDS"] = 0
    assert follow_ups.sweep() == 1  # only what is still pending
    assert run_follow_ups() == 1
    assert_done_once([report_id])


def test_the_sweep_enqueues_a_lost_follow_up_again_but_not_one_still_waiting_in_the_queue(world, ctx):
    """Behind a backlog a follow-up may wait longer than the grace period: enqueued again every sweep, it
    would grow the backlog it waits behind (the infrastructure trials after Redis came back, 784 jobs)."""
    first, second = _report(world), _report(world)
    assert pipeline.drive(first) == "finished" and pipeline.drive(second) == "finished"
    ctx.config["SWEEP_GRACE_SECONDS"] = 0
    queued = _follow_up_jobs_queued()
    assert sorted(queued) == sorted(FOLLOW_UP_JOBS * 2)
    # Still waiting: the sweep leaves them, however often it runs.
    for _ in range(3):
        assert follow_ups.sweep() == 0
    assert sorted(_follow_up_jobs_queued()) == sorted(queued)
    # The first report's jobs lost (a Redis that came back without them): enqueued again, once each.
    for job in tasks.follow_up_queue().get_jobs():
        if job.args == (first,):
            tasks.follow_up_queue().remove(job)
    assert follow_ups.sweep() == len(FOLLOW_UP_JOBS)
    assert follow_ups.sweep() == 0
    assert sorted(_follow_up_jobs_queued()) == sorted(FOLLOW_UP_JOBS * 2)
    assert run_follow_ups() == 2 * len(FOLLOW_UP_JOBS)
    assert_done_once([first, second])


# --- real workers -------------------------------------------------------------------------------------------


def test_a_worker_killed_between_the_filing_job_and_its_follow_ups_loses_nothing(world, ctx, ncmec_simulator):
    """SIGKILL right after the filing job, before any follow-up ran; and the queue loses their jobs."""
    report_id = _report(world)
    ncmec_simulator.set_fault("finish", "delay", delay_ms=500, times=1)  # under the read timeout
    pool = fh.Workers(ctx)
    # Well under it: with FAST's 0.8 s a busy machine (3 test processes on 2 cores) made the delayed /finish
    # time out, and its retry then waited behind the 60 s job below.
    pool.env["NCMEC_READ_TIMEOUT"] = "5"
    try:
        victim = pool.start()
        tasks.enqueue(pipeline.JOB, report_id)
        reached = _wait_for(lambda: ncmec_simulator.stats()["faults_fired"], 60)
        db.session.rollback()
        report = db.session.get(ExternalReport, report_id)
        assert reached, ("never reached /finish", report.state, report.last_error, ncmec_simulator.stats())
        # While the worker waits for /finish, a job that keeps it busy takes its place in the queue ahead
        # of the follow-ups, which the finish enqueues after its commit: the worker runs the filing job,
        # then this one — and dies in it, before any follow-up ran.
        tasks.task_queue().enqueue("time.sleep", 60)
        assert _wait_for(lambda: _state(report_id) == "finished", 30)
        assert _wait_for(lambda: len(_follow_up_jobs_queued()) == 3, 10)
        pool.kill(victim)
        tasks.task_queue().empty()  # and Redis lost what was queued
        tasks.follow_up_queue().empty()
        db.session.rollback()
        assert _count(ReportFollowUp, ReportFollowUp.state == "pending") == 3
        assert _count(HashSource) == 0 and _count(WebhookEvent, WebhookEvent.report_id == report_id) == 0
        # A new worker and the sweeps (rq cron's) finish the work, once.
        pool.start()
        _sweep_until_done([report_id], time.monotonic() + 90)
        assert_done_once([report_id])
    finally:
        pool.stop_all()


def test_workers_killed_at_random_during_filing_and_follow_ups_do_each_once(world, ctx, ncmec_simulator):
    """Two workers, one SIGKILLed every ~1 s while reports are filed and their follow-ups run; the sweeps
    re-deliver (grace 1 s) whatever was lost, often while its first delivery is still queued or running."""
    rnd = random.Random(27)
    report_ids = [_report(world, images=rnd.choice([1, 2])) for _ in range(8)]
    pool = fh.Workers(ctx)
    try:
        for _ in range(2):
            pool.start()
        for report_id in report_ids:
            tasks.enqueue(pipeline.JOB, report_id)
        started = last_kill = time.monotonic()
        # 25 s of chaos, longer if a loaded machine started the workers too slowly to kill two at work.
        while time.monotonic() < started + 25 or (pool.kills < 2 and time.monotonic() < started + 90):
            if time.monotonic() - last_kill > 1.0:
                working = pool.working()
                if working:
                    pool.kill(rnd.choice(working))
                    pool.start()
                last_kill = time.monotonic()
            reports_sweep.sweep()
            follow_ups.sweep()
            db.session.rollback()
            time.sleep(0.3)
        if not pool.alive():
            pool.start()
        _sweep_until_done(report_ids, time.monotonic() + 120)
        assert pool.kills >= 2
        assert_done_once(report_ids)
    finally:
        pool.stop_all()


def _state(report_id: int) -> str:
    db.session.rollback()
    state = db.session.scalar(select(ExternalReport.state).where(ExternalReport.id == report_id))
    db.session.rollback()
    return state


def _wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result
