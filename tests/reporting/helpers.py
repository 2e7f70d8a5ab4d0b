"""Building a reporting setup the way an admin would: NCMEC connected to the simulator, one rule."""

from __future__ import annotations

from console.extensions import db
from console.reporting import agencies, credentials
from console.reporting.models import ReportingRule
from tests import factories


def connect_ncmec(simulator) -> None:
    agency = agencies.ncmec()
    agency.environment = "custom"
    agency.custom_base_url = simulator.base_url
    agency.username = simulator.username
    agency.password_encrypted = credentials.encrypt(simulator.password)
    db.session.commit()


def store_a_wrong_password() -> None:
    """The stored NCMEC password stops working (an admin changed it at NCMEC, not here)."""
    agency = agencies.ncmec()
    agency.password_encrypted = credentials.encrypt("wrong")
    db.session.commit()


def reporting_setup(simulator, *, policy: str = "child-safety"):
    """Policies, an AI review queue and an enabled rule on `policy`: (policies, review_queue, rule)."""
    connect_ncmec(simulator)
    policies = factories.policy_tree()
    review = factories.queue("AI review", "ai_review")
    rule = ReportingRule(
        name="NCMEC — CSAM auto report",
        agency_id=agencies.ncmec().id,
        review_queue_id=review.id,
        contact_first_name="Rita",
        contact_last_name="Reporter",
        contact_email="rita@example.org",
        enabled=True,
        policies=[policies[policy]],
    )
    db.session.add(rule)
    db.session.commit()
    return policies, review, rule


# The jobs a finished report sets going (console/reporting/follow_ups.py).
FOLLOW_UP_JOBS = ("jobs.evidence.preserve", "jobs.hashbank.bank_report", "jobs.webhooks.ask_preservation")


def run_follow_ups() -> int:
    """What a worker does after the filing job: the finish's follow-up jobs that were enqueued, taken off the
    queue and run here as RQ runs them (their own app context and session); other jobs stay queued."""
    from flask import current_app

    import jobs
    from console import tasks

    jobs.use_app(current_app._get_current_object())
    db.session.commit()  # the test's own transaction ends first (on SQLite every one holds the write lock)
    queue = tasks.follow_up_queue()
    ran = 0
    for job in queue.get_jobs():
        if job.func_name in FOLLOW_UP_JOBS:
            queue.remove(job)
            job.perform()
            ran += 1
    db.session.expire_all()
    return ran
