"""A rule's gathering window: the AI-confirmed contents of one user confirmed within it are one report, filed
when the window closes — never before, never losing or doubling a content."""

from __future__ import annotations

from datetime import timedelta

from console import tasks
from console.cases import service as cases
from console.extensions import db
from console.reporting import lease, pipeline, service, sweep
from console.reporting.models import ExternalReport, ReportingRule
from console.timeutil import utcnow
from tests import factories
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import reports, run_jobs

FAST_CONFIG = {"NCMEC_READ_TIMEOUT": 1, "SWEEP_GRACE_SECONDS": 0}
ALICE = {"platform_id": "u-alice", "name": "Alice Uploader"}
BOB = {"platform_id": "u-bob", "name": "Bob Uploader"}


def world(simulator, window=30):
    policies, review, rule = reporting_setup(simulator)
    rule = db.session.get(ReportingRule, rule.id)
    rule.bundle_window_minutes = window
    db.session.commit()
    mod = factories.user("moderator")
    return policies, review, rule, mod


def ai_case(review, policies, user, n, images=1):
    return factories.case(
        review,
        images=images,
        ai_policy=policies["csam"],
        reported_user=user,
        content_url=f"https://platform.example/p/{user['platform_id']}-{n}",
    )


def confirm_ai(app, case, policies, mod):
    with app.test_request_context():
        return cases.decide(case.id, "violation", policies["csam"].id, mod)


def close_the_window(report_id: int) -> None:
    """Time passes: the window closed a moment ago (and the job scheduled for then was lost)."""
    past = utcnow() - timedelta(seconds=5)
    db.session.execute(
        db.update(ExternalReport)
        .where(ExternalReport.id == report_id)
        .values(gathering_until=past, next_attempt_at=past, updated_at=past)
    )
    db.session.commit()


def test_one_users_contents_within_the_window_are_one_report_filed_when_it_closes(
    app, ctx, fast, ncmec_simulator
):
    policies, review, rule, mod = world(ncmec_simulator)
    scheduled_before = len(tasks.task_queue().scheduled_job_registry)  # other tests' retries may be there
    a1, a2, a3 = (ai_case(review, policies, ALICE, n, images=2) for n in range(3))
    b1 = ai_case(review, policies, BOB, 1)
    for c in (a1, b1, a2, a3):
        confirm_ai(app, c, policies, mod)
    alice, bob = sorted(reports(), key=lambda r: r.case_id != a1.id)
    assert [x.case_id for x in alice.contents] == [a1.id, a2.id, a3.id]
    assert [x.case_id for x in bob.contents] == [b1.id]
    assert alice.gathering_until is not None and alice.next_attempt_at > alice.gathering_until
    assert len(alice.files) == 6 and len(alice.payload["contents"]) == 3
    # The jobs wait for the window (RQ's scheduler), nothing runs now; a job run early claims nothing.
    assert tasks.task_queue().count == 0
    assert len(tasks.task_queue().scheduled_job_registry) - scheduled_before == 2
    assert pipeline.drive(alice.id) is None and sweep.sweep() == 0
    assert ncmec_simulator.reports() == []

    close_the_window(alice.id)
    late = ai_case(review, policies, ALICE, 9)
    confirm_ai(app, late, policies, mod)  # after the window: a report of its own, at once
    sweep.sweep()  # the cron's sweep finds the closed window (its scheduled job was lost)
    run_jobs(ctx)
    alice = db.session.get(ExternalReport, alice.id)
    assert alice.state == "finished", alice.last_error
    assert alice.gathering_until is None and alice.gathering_key is None
    received = ncmec_simulator.report(alice.ncmec_report_id)
    assert sorted(f["md5"] for f in received["files"]) == sorted(m.md5 for c in (a1, a2, a3) for m in c.media)
    assert all(f["details_received"] for f in received["files"])
    assert len(received["urls"]) == 3
    lone = next(r for r in reports() if r.case_id == late.id)
    assert [x.case_id for x in lone.contents] == [late.id] and lone.gathering_key is None
    assert lone.state == "finished"
    assert ncmec_simulator.refusals() == []


def test_a_claimed_report_is_frozen_and_later_contents_gather_anew(app, ctx, fast, ncmec_simulator):
    policies, review, rule, mod = world(ncmec_simulator)
    first = ai_case(review, policies, ALICE, 1)
    confirm_ai(app, first, policies, mod)
    [gathering] = reports()
    # An admin's Retry files it now: the claim freezes it, in the same compare-and-set that takes it.
    assert service.resume(gathering.id)
    assert lease.claim(gathering.id, "worker-x")
    db.session.expire_all()
    frozen = db.session.get(ExternalReport, gathering.id)
    assert frozen.gathering_key is None and frozen.gathering_until is None
    second = ai_case(review, policies, ALICE, 2)
    confirm_ai(app, second, policies, mod)
    frozen = db.session.get(ExternalReport, gathering.id)
    assert [x.case_id for x in frozen.contents] == [first.id]
    fresh = next(r for r in reports() if r.id != gathering.id)
    assert [x.case_id for x in fresh.contents] == [second.id] and fresh.gathering_key is not None


def test_a_content_confirmed_twice_stays_in_its_gathering_report(app, ctx, fast, ncmec_simulator):
    policies, review, rule, mod = world(ncmec_simulator)
    c = ai_case(review, policies, ALICE, 1)
    confirm_ai(app, c, policies, mod)
    twin = factories.case(
        review, images=1, ai_policy=policies["csam"], reported_user=ALICE, content_url=c.content_url
    )
    confirm_ai(app, twin, policies, mod)  # the same post, reported again: the same item
    [report] = reports()
    assert [x.case_id for x in report.contents] == [c.id]


def test_without_a_window_each_content_is_filed_at_once(app, ctx, fast, ncmec_simulator):
    policies, review, rule, mod = world(ncmec_simulator, window=None)
    for n in range(2):
        confirm_ai(app, ai_case(review, policies, ALICE, n), policies, mod)
    assert [len(r.contents) for r in reports()] == [1, 1]
    assert all(r.gathering_until is None for r in reports())
    assert tasks.task_queue().count == 2
