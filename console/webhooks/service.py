"""What causes webhooks to the platform, and what admins change about them.

- `emit` adds one event row to the caller's transaction and returns the delivery job: the caller commits, then
  enqueues (console/tasks.py). A job lost between the two only delays the event: the sweep enqueues it again.
- `on_case_decided` (cases' `case_decided` signal, every decision from every path: a moderator's, the AI
  review queue's confirmation, a hash-bank match confirmed in its review queue) runs the decision's actions:
  a confirmed violation runs its policy's default actions (a sub-policy without its own, its parent's), "No
  violation" the actions meant for it; a moderator may untick an action the admin made skippable.
- `on_report_finished` (reporting's `report_finished` signal) hands back the job that asks the platform to
  preserve the account's data (`ask_preservation`, once per report: console/reporting/follow_ups.py).
- Resend: a failed or stopped event goes out again, with the same webhook-id.
(What admins set up — endpoints, secrets, actions, allowed hosts — is endpoints.py.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection

from sqlalchemy import select, update

from console import audit, tasks
from console.cases.models import Case, Decision
from console.cases.signals import FollowUp
from console.extensions import db
from console.policies.service import lineage_ids
from console.timeutil import utcnow
from console.webhooks.models import (
    PRESERVATION_REQUEST,
    WebhookAction,
    WebhookEvent,
    policy_actions,
)

log = logging.getLogger(__name__)

DELIVER_JOB = "jobs.webhooks.deliver"


def delivery_job(event_id: int) -> tasks.Job:
    """An event's delivery job, under a fixed id: a worker that delivers the event in a batch takes it out."""
    return tasks.Job(DELIVER_JOB, (event_id,), job_id=f"webhook-{event_id}")


# --- events -------------------------------------------------------------------------------------------------


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def emit(
    event_type: str,
    endpoint_id: int,
    data: dict,
    *,
    case_id: int | None = None,
    report_id: int | None = None,
    reported_user_id: int | None = None,
    action_id: int | None = None,
    actor=None,
) -> tasks.Job:
    """Add one event to the caller's transaction; return the job that delivers it once that commits."""
    event = add_event(
        event_type,
        endpoint_id,
        data,
        case_id=case_id,
        report_id=report_id,
        reported_user_id=reported_user_id,
        action_id=action_id,
        actor=actor,
    )
    return delivery_job(event.id)


def add_event(
    event_type: str,
    endpoint_id: int,
    data: dict,
    *,
    state: str = "pending",
    case_id: int | None = None,
    report_id: int | None = None,
    reported_user_id: int | None = None,
    action_id: int | None = None,
    actor=None,
) -> WebhookEvent:
    """The event row, in the caller's transaction, with its audit event (every event is in the audit log)."""
    now = utcnow()
    message_id = new_message_id()
    event = WebhookEvent(
        message_id=message_id,
        type=event_type,
        endpoint_id=endpoint_id,
        action_id=action_id,
        case_id=case_id,
        report_id=report_id,
        reported_user_id=reported_user_id,
        # The body as the receiver gets it (the Standard Webhooks shape: type, timestamp, data).
        payload={"type": event_type, "timestamp": now.isoformat(), "data": {"id": message_id, **data}},
        state=state,
        created_at=now,
        updated_at=now,
    )
    db.session.add(event)
    db.session.flush()
    audit.record(
        "webhook_event_created",
        "webhook_event",
        event.id,
        actor=actor,
        actor_label="" if actor else "system",
        case_id=case_id,
        type=event_type,
        message_id=message_id,
        endpoint_id=endpoint_id,
    )
    return event


def actions_for(verdict: str, policy_id: int | None) -> list[WebhookAction]:
    """The enabled actions a decision runs unless unticked: its policy's defaults, or no violation's."""
    if verdict == "no_violation":
        return list(
            db.session.scalars(
                select(WebhookAction)
                .where(WebhookAction.verdict == "no_violation", WebhookAction.enabled.is_(True))
                .order_by(WebhookAction.id)
            )
        )
    if policy_id is None:
        return []
    rows = db.session.execute(
        select(policy_actions.c.policy_id, WebhookAction)
        .join(WebhookAction, WebhookAction.id == policy_actions.c.action_id)
        .where(policy_actions.c.policy_id.in_(lineage_ids(policy_id)))
        .order_by(WebhookAction.id)
    ).all()
    by_policy: dict[int, list[WebhookAction]] = {}
    for pid, action in rows:
        by_policy.setdefault(pid, []).append(action)
    for pid in lineage_ids(policy_id):  # the policy itself first, then up the tree
        if pid in by_policy:
            return [a for a in by_policy[pid] if a.enabled and a.verdict == "violation"]
    return []


def _decision_data(case: Case, decision: Decision, actor) -> dict:
    user = case.reported_user
    return {
        "case": {"id": case.id},
        "content": {"id": case.content_id or "", "url": case.content_url or ""},
        "account": {"platform_id": user.platform_id if user else ""},
        "decision": {
            "verdict": decision.verdict,
            "policy": decision.policy.name if decision.policy else "",
            "decided_by": actor.name if actor is not None and getattr(actor, "name", "") else "automatic",
            "decided_at": decision.created_at.isoformat(),
            "reason": decision.note or "",
        },
        # A case is decided once, before any report of it exists: the CyberTip id comes with the
        # preservation request, once the report is finished.
        "cybertip_id": None,
    }


def on_case_decided(
    case: Case, *, decision: Decision, actor, unticked: Collection[int] = ()
) -> FollowUp | None:
    """Receiver of cases.signals.case_decided: the decision's actions, as events in its own transaction."""
    actions = [
        a for a in actions_for(decision.verdict, decision.policy_id) if not (a.skippable and a.id in unticked)
    ]
    if not actions:
        return None
    data = _decision_data(case, decision, actor)
    jobs = []
    for action in actions:
        body = {**data, "action": {"id": action.id, "name": action.name, "target": action.target}}
        jobs.append(
            emit(
                action.event_type,
                action.endpoint_id,
                body,
                case_id=case.id,
                reported_user_id=case.reported_user_id,
                action_id=action.id,
                actor=actor,
            )
        )
    return FollowUp(jobs=tuple(jobs))


PRESERVATION_JOB = "jobs.webhooks.ask_preservation"


def on_report_finished(report_id: int, *, rule_id: int | None = None, **_details) -> list[tasks.Job]:
    """Receiver of reporting's report_finished, in the finish's transaction: the job that asks the platform
    to preserve the account's data, when the report's rule names an endpoint for it. Reads the rule (by key,
    usually from the session) and nothing else; never raises."""
    from console.reporting.models import ReportingRule

    try:
        rule = db.session.get(ReportingRule, rule_id) if rule_id is not None else None
    except Exception:  # noqa: BLE001 - the finish must be recorded whatever happens here
        log.exception("report %s: could not read its rule; no preservation request", report_id)
        return []
    if rule is None or rule.preservation_endpoint_id is None:
        return []
    return [tasks.Job(PRESERVATION_JOB, (report_id,))]


def ask_preservation(report_id: int) -> list[tasks.Job]:
    """The preservation request's event, in the caller's transaction (follow_ups.run_once: once per report);
    returns its delivery job for after the commit. Raises when it cannot: the follow-up stays pending."""
    from console.evidence.models import EvidenceRecord
    from console.evidence.preservation import preserve_until
    from console.reporting.models import ExternalReport, ReportingRule

    report = db.session.get(ExternalReport, report_id)
    rule = db.session.get(ReportingRule, report.rule_id) if report and report.rule_id else None
    if rule is None or rule.preservation_endpoint_id is None:
        return []
    case = report.case
    user = case.reported_user
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
    finished = report.finished_at or utcnow()
    until = record.preserve_until if record else preserve_until(finished)
    job = emit(
        PRESERVATION_REQUEST,
        rule.preservation_endpoint_id,
        {
            "case": {"id": case.id},
            "content": {"id": case.content_id or "", "url": case.content_url or ""},
            "account": {"platform_id": user.platform_id if user else ""},
            "cybertip_id": report.ncmec_report_id,
            "reported_at": finished.isoformat(),
            # 18 U.S.C. §2258A(h) as amended by the REPORT Act: one year from the report.
            "preserve_until": until.isoformat(),
            "reason": "CyberTipline report filed: preserve the account's data (18 U.S.C. §2258A(h))",
        },
        case_id=case.id,
        report_id=report_id,
        reported_user_id=case.reported_user_id,
    )
    return [job]


def resend(event_id: int, actor=None) -> bool:
    """Put a failed or stopped event back to be delivered, with the same webhook-id (admin "Resend")."""
    event = db.session.get(WebhookEvent, event_id)
    if event is None or event.state not in ("failed", "stopped"):
        return False
    now = utcnow()
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.state.in_(("failed", "stopped")))
        .values(state="pending", next_attempt_at=None, updated_at=now, created_at=now, last_error="")
    )
    audit.record(
        "webhook_event_resent",
        "webhook_event",
        event_id,
        actor=actor,
        actor_label="" if actor else "cli",
        case_id=event.case_id,
        message_id=event.message_id,
    )
    tasks.commit_then_enqueue([delivery_job(event_id)])
    return True
