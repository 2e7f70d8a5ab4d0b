"""A rule's gathering window: the AI-confirmed contents of one user confirmed within it are one report.

Off by default (``ReportingRule.bundle_window_minutes`` is None). When set, the first AI-confirmed content of
a user under the rule opens a report that *gathers*: ``gathering_until`` = confirmation + window, and
``gathering_key`` = (rule, user, incident type), unique. Each later confirmation of that user's content with
the same incident type joins it, in its own deciding transaction, until the window closes. Then the report is
filed as any other, with every content it gathered.

Why it is crash-safe and exactly-once, with no new machinery:
- The report row exists from the first confirmation, committed with its decision: a crash loses nothing, and
  every content is in report_contents under the partial unique index (a content in one live report only).
- No worker can take the report before the window closes: its ``next_attempt_at`` is the close (plus the
  scheduler's tolerance), which ``lease.claim`` requires to have passed. The job is scheduled for then, and
  the sweep enqueues the report if that job is lost, exactly as it does a retry.
- A join is a compare-and-set on the report row (still gathering, window open, nobody holding it) in the
  joining transaction; the claim clears ``gathering_until`` and ``gathering_key`` in its own compare-and-set.
  On PostgreSQL the two row updates serialize; on SQLite every writer does. So a content either joins before
  the report is frozen (and is sent with it) or finds it frozen and gets a report of its own — never both,
  never neither. From the claim on, the pipeline drives a fixed set of contents and files: abandon-and-
  restart files the same row again, with every content it holds.
- Two first confirmations at once both try to open the gathering report: the unique ``gathering_key`` lets
  one win; the other joins it (or, if its window has closed meanwhile, is filed alone).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from console.cases.models import Case
from console.extensions import db
from console.ncmec import IncidentType
from console.reporting import filing
from console.reporting.models import ExternalReport, ReportingRule
from console.timeutil import utcnow


def key_for(rule: ReportingRule, case: Case, incident_type: str) -> str:
    """One gathering report per rule, user and incident type (a report has one incident type)."""
    kind = list(IncidentType).index(IncidentType(incident_type))
    return f"rule:{rule.id}:user:{case.reported_user_id}:incident:{kind}"


def gather(case: Case, rule: ReportingRule, incident_type: str, *, actor) -> tuple[ExternalReport, bool]:
    """File an AI-confirmed content under a rule with a window: into the user's gathering report, or a new
    one. Returns (report, created); a created report's job is to run when its window closes."""
    existing = filing.existing_report_for(case, rule.agency_id)
    if existing is not None or case.reported_user_id is None:
        return filing.create_report(case, rule, incident_type, triggered_by="ai", created_by=actor)
    key = key_for(rule, case, incident_type)
    for _attempt in range(2):
        report = db.session.scalar(select(ExternalReport).where(ExternalReport.gathering_key == key))
        if report is not None:
            if _join(report, case, rule, key):
                return report, False
            # Its window closed (or a worker froze it) and no claim has cleared its key yet: alone, at once.
            return filing.create_report(case, rule, incident_type, triggered_by="ai", created_by=actor)
        until = utcnow() + timedelta(minutes=rule.bundle_window_minutes or 0)
        try:
            with db.session.begin_nested():
                report = filing.create_bundle(
                    [case],
                    rule,
                    incident_type,
                    triggered_by="ai",
                    created_by=actor,
                    gathering_until=until,
                    gathering_key=key,
                )
            return report, True
        except IntegrityError:
            continue  # another confirmation opened it first: join that one
    return filing.create_report(case, rule, incident_type, triggered_by="ai", created_by=actor)


def _join(report: ExternalReport, case: Case, rule: ReportingRule, key: str) -> bool:
    """Add the content to the gathering report if it is still gathering; False when it is not any more."""
    now = utcnow()
    held = db.session.execute(
        update(ExternalReport)
        .where(
            ExternalReport.id == report.id,
            ExternalReport.gathering_key == key,
            ExternalReport.gathering_until > now,
            ExternalReport.lease_owner.is_(None),
            ExternalReport.state == "queued",
            ExternalReport.ncmec_report_id.is_(None),
        )
        .values(updated_at=now)
    ).rowcount
    if held != 1:
        return False
    db.session.refresh(report)
    try:
        filing.add_content(report, case, rule)
    except IntegrityError:
        return False  # the content was filed meanwhile (the unique index): the caller finds that report
    return True
