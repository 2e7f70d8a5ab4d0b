"""What decisions and people do to reports: a confirmed violation, "Submit report", Retry, Retract.

Each function that changes rows owns its transaction and ends it with `tasks.commit_then_enqueue` (the
convention written in console/tasks.py); `on_violation_confirmed` is the exception, a receiver that adds to
the deciding transaction and hands its jobs back. None of them calls NCMEC while a worker may: Retract takes
the report's lease first.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from console import audit, tasks
from console.cases.models import Case, Decision
from console.cases.signals import FollowUp
from console.childsafety import access
from console.extensions import db
from console.ncmec import CyberTiplineError, ReportStateError
from console.policies.service import incident_type_for
from console.reporting import filing, gathering, lease, pipeline, rules
from console.reporting.credentials import CredentialsError
from console.reporting.details import Choices
from console.reporting.models import RETRYABLE_STATES, ExternalReport, ReportContent, ReportingRule
from console.timeutil import utcnow

log = logging.getLogger(__name__)

# A FollowUp's question: the moderator who confirmed the violation is asked to file the report.
ASK_TO_FILE = "report-to-ncmec"


def on_violation_confirmed(case: Case, *, decision: Decision, actor) -> FollowUp | None:
    """Receiver of cases.signals.violation_confirmed: a confirmed violation under an enabled rule.

    - An AI-detected case confirmed by a person in the covering rule's review queue: the report is created
      and filed automatically, with the incident type mapped from the confirmed policy (no dialog).
    - Any other: the moderator is asked to file the report (the "Report to NCMEC" dialog), since a person
      must choose the incident type; until it is filed the case counts as "NCMEC report required".
    """
    rule = rules.rule_for_case(case)
    if rule is None:
        return None
    if not access.has_access(actor):
        # Nothing is filed by, nor asked of, someone without the child-safety permission (a rule covers a
        # policy nobody marked child-safety): the case waits in "NCMEC reports required" for the team.
        if filing.existing_report_for(case, rule.agency_id) is None:
            case.ncmec_report_required = True
        return None
    incident_type = incident_type_for(decision.policy_id)
    if case.ai_detected and case.queue_id == rule.review_queue_id and incident_type:
        if rule.bundle_window_minutes:
            # The user's AI-confirmed contents within the rule's window are one report (gathering.py); it is
            # filed when the window closes.
            report, created = gathering.gather(case, rule, incident_type, actor=actor)
        else:
            report, created = filing.create_report(
                case, rule, incident_type, triggered_by="ai", created_by=actor
            )
        due = report.gathering_until + lease.SCHEDULER_TOLERANCE if report.gathering_until else None
        return FollowUp(jobs=(tasks.Job(pipeline.JOB, (report.id,), at=due),) if created else ())
    if filing.existing_report_for(case, rule.agency_id) is None:
        case.ncmec_report_required = True
    return FollowUp(ask=ASK_TO_FILE)


def file_report(
    case: Case,
    rule: ReportingRule,
    incident_type: str,
    *,
    actor,
    choices: Choices | None = None,
    classifications: dict[int, str] | None = None,
) -> tuple[ExternalReport, bool]:
    """The moderator's "Submit report": the report for the case's content, filed once.

    ``choices``: what the moderator chose in the dialog (escalation, annotations, per-file classification).
    Returns (report, created): the live report for the same content when there is one already (nothing more
    is sent). Raises filing.ReportingError, with nothing changed, when NCMEC would refuse what was chosen.
    """
    try:
        report, created = filing.create_report(
            case,
            rule,
            incident_type,
            triggered_by="human",
            created_by=actor,
            choices=choices if choices is not None else Choices(classifications=classifications or {}),
            refuse_invalid=True,
        )
    except filing.ReportingError:
        db.session.rollback()
        raise
    tasks.commit_then_enqueue([pipeline.job(report.id)] if created else [])
    return report, created


def file_bundle(
    cases: list[Case], rule: ReportingRule, incident_type: str, *, actor, choices: Choices | None = None
) -> ExternalReport:
    """The moderator's "Submit report" for several confirmed contents of one user: one report, one incident.

    Raises filing.ReportingError, with nothing changed, when a content is not a confirmed violation, is in a
    live report already, or NCMEC would refuse what was chosen.
    """
    undecided = [c.id for c in cases if c.status != "violation"]
    if undecided:
        raise filing.ReportingError(
            "only confirmed violations can be reported: " + ", ".join(f"case #{i}" for i in undecided)
        )
    try:
        report = filing.create_bundle(
            cases,
            rule,
            incident_type,
            triggered_by="human",
            created_by=actor,
            choices=choices,
            refuse_invalid=True,
        )
    except filing.ReportingError:
        db.session.rollback()
        raise
    tasks.commit_then_enqueue([pipeline.job(report.id)])
    return report


def resumable_state(report: ExternalReport) -> str:
    if report.ncmec_report_id is None:
        return "queued"
    if all(f.ncmec_file_id and f.fileinfo_sent for f in report.files):
        return "files_uploaded"
    return "submitted"


def resume(report_id: int, actor=None) -> bool:
    """Put a failed, parked or delayed report back to work (admin "Retry", credentials fixed)."""
    report = db.session.get(ExternalReport, report_id)
    if report is None or report.state not in RETRYABLE_STATES:
        return False
    report.state = resumable_state(report)
    report.error_kind, report.next_attempt_at = "", None
    report.payload = {**report.payload, "restarts": 0}
    audit.record(
        "report_resumed",
        "external_report",
        report_id,
        actor=actor,
        actor_label="" if actor else "system",
        case_id=report.case_id,
    )
    tasks.commit_then_enqueue([pipeline.job(report_id)])
    return True


def resume_waiting_for_credentials(actor=None) -> int:
    ids = list(
        db.session.scalars(select(ExternalReport.id).where(ExternalReport.state == "waiting_credentials"))
    )
    for report_id in ids:
        resume(report_id, actor)
    return len(ids)


def retract(report_id: int, actor=None, reason: str = "") -> str:
    """Cancel a report that is not finished: retract it at NCMEC if it was opened, and free the content.

    Refused for a finished report (the law: it cannot be withdrawn) and while a worker holds the report.
    """
    owner = lease.new_owner()
    report = db.session.get(ExternalReport, report_id)
    if report is None:
        raise filing.ReportingError("no such report")
    if report.state == "finished":
        raise filing.ReportingError("a finished report cannot be withdrawn")
    if not lease.take(report_id, owner):
        raise filing.ReportingError("the report is being filed right now; try again in a minute")
    report = pipeline.fresh(report_id)
    ncmec_id = report.ncmec_report_id
    # The client is made inside the claim's transaction: made after its commit, reading the agency would
    # open another, which on SQLite holds the write lock while NCMEC's reply is kept in a transaction of its
    # own (console/evidence/replies.py) — which then waited 30 s for the lock and lost the reply.
    client = pipeline.client_for(report.agency) if ncmec_id else None
    db.session.commit()
    try:
        if ncmec_id:
            try:
                client.retract(ncmec_id)
            except ReportStateError as e:
                if e.already_finished:
                    # NCMEC finished it (an earlier finish whose answer we lost): it stands.
                    lease.release(report_id, owner, state="finished", finished_at=utcnow())
                    raise filing.ReportingError("NCMEC had already finished this report; it stands") from e
                if not (e.already_retracted or e.report_missing):
                    raise
    except (CyberTiplineError, CredentialsError) as e:
        lease.release(report_id, owner)
        raise filing.ReportingError(f"NCMEC did not accept the retraction: {e}") from e
    lease.release(
        report_id,
        owner,
        commit=False,
        state="retracted",
        live=False,
        gathering_until=None,
        gathering_key=None,
        error_kind="",
        last_error=reason[:2000],
    )
    # Its contents are free in the same transaction: each may be filed anew.
    db.session.execute(update(ReportContent).where(ReportContent.report_id == report_id).values(live=False))
    report = pipeline.fresh(report_id)
    for case in [content.case for content in report.contents] or [report.case]:
        if case.status == "violation":
            case.ncmec_report_required = True  # the content is no longer reported: ask again
    audit.record(
        "report_retracted",
        "external_report",
        report_id,
        actor=actor,
        actor_label="" if actor else "system",
        case_id=report.case_id,
        ncmec_report_id=ncmec_id,
        reason=reason,
    )
    tasks.commit_then_enqueue()
    return "retracted"
