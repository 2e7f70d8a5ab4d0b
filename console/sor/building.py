"""A decision's statement of reasons: created in the decision's transaction, built and frozen there.

`on_case_decided` is the receiver of cases' `case_decided` signal (connected in console.sor.init_app, the way
console/webhooks connects its own). For a confirmed violation of EU content — the reported user's country,
from ingestion's or the platform's enrichment's ``estimated_location.country_code``, in the agency's list —
whose platform actions restrict something, it adds one StatementOfReasons row to the decision's transaction:
its PUID (from the decision id) is stored with it, before any attempt. The body is built from the admins'
mapping and frozen on the row; when the mapping is incomplete the row waits, with the reason, and is built
when an admin completes it (`build_waiting`). The receiver returns the send job as a FollowUp: cases.service.
decide commits, then enqueues it (console/tasks.py). Nothing is sent for "no violation", for content outside
the EU, or while the agency is off.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select

from console import audit, tasks
from console.cases.models import Case, Decision
from console.cases.signals import FollowUp
from console.dsa import IllegalContent, IncompatibleContent, Statement, problems, puid_for
from console.dsa.constants import (
    EARLIEST_DATE,
    AutomatedDecision,
    Category,
    CategorySpecification,
    ContentType,
    Field,
)
from console.extensions import db
from console.sor import agency as agencies
from console.sor import mapping
from console.sor.models import StatementOfReasons
from console.timeutil import utcnow
from console.webhooks.service import actions_for

SEND_JOB = "jobs.sor.send"


class Waiting(Exception):
    """The statement cannot be built yet; the message says what an admin must map."""


class NothingRestricted(Exception):
    """Every action the decision ran is mapped, and none restricts anything: no statement is due."""


def send_job(environment: str) -> tasks.Job:
    return tasks.Job(SEND_JOB, (environment,))


def country_of(case: Case) -> str | None:
    user = case.reported_user
    where = ((user.details or {}) if user else {}).get("estimated_location") or {}
    code = where.get("country_code")
    return code.upper() if isinstance(code, str) and code else None


def automation(case: Case, decision: Decision) -> tuple[bool, AutomatedDecision]:
    """automated_detection and automated_decision from the path the decision took.

    Detected automatically: an AI model or rule flagged the content (the case's AI signal). Decided: by the
    machine alone (``made_by == "ai"``) → fully; by a person confirming the machine's proposal in an AI review
    queue → partially; by a person otherwise → not automated.
    """
    detected = bool(case.ai_detected)
    if decision.made_by == "ai":
        return detected, AutomatedDecision.FULLY
    if detected and case.queue is not None and case.queue.source_kind == "ai_review":
        return detected, AutomatedDecision.PARTIALLY
    return detected, AutomatedDecision.NOT_AUTOMATED


def build(row: StatementOfReasons) -> Statement:
    """The statement for the row's decision, from the mapping as it is now. Raises Waiting or
    NothingRestricted."""
    decision, case = row.decision, row.case
    policy_map = mapping.policy_mapping(decision.policy_id)
    if missing := mapping.policy_problems(policy_map):
        name = decision.policy.name if decision.policy else "the policy"
        raise Waiting(f"the mapping of policy “{name}” is incomplete: {', '.join(missing)}")
    action_maps = []
    for action_id in row.action_ids or []:
        found = mapping.action_mapping(action_id)
        if missing := mapping.action_problems(found):
            from console.webhooks.models import WebhookAction

            action = db.session.get(WebhookAction, action_id)
            raise Waiting(f"the action “{action.name if action else action_id}” {', '.join(missing)}")
        action_maps.append(found)
    limits = mapping.restrictions(action_maps)
    if not limits.kinds:
        raise NothingRestricted()
    source = mapping.source_type(case.source_kind)
    if source is None:
        raise Waiting(f"the source “{case.source_kind}” has no source type")
    ground = (
        IllegalContent(policy_map.legal_ground, policy_map.explanation)
        if policy_map.ground == "illegal"
        else IncompatibleContent(policy_map.clause, policy_map.explanation)
    )
    applied = decision.created_at.date()
    content_day = max(min(case.reported_at.date(), applied), EARLIEST_DATE[Field.CONTENT_DATE])
    detected, decided = automation(case, decision)
    specs = tuple(CategorySpecification(s) for s in policy_map.specifications)
    types = tuple(ContentType(t) for t in policy_map.content_types)
    return Statement(
        puid=row.puid,
        ground=ground,
        category=Category(policy_map.category),
        category_specification=specs,
        category_specification_other=policy_map.specification_other or None,
        content_types=types,
        content_type_other=policy_map.content_type_other or None,
        decision_facts=policy_map.facts,
        source_type=source,
        automated_detection=detected,
        automated_decision=decided,
        content_date=content_day,
        application_date=applied if applied >= date(2020, 1, 1) else date(2020, 1, 1),
        territorial_scope=(country_of(case) or "",),
        visibility=limits.visibility,
        visibility_other=limits.visibility_other,
        account=limits.account,
        provision=limits.provision,
        monetary=limits.monetary,
        monetary_other=limits.monetary_other,
    )


def freeze(row: StatementOfReasons) -> bool:
    """Build the row's statement and freeze it (pending), or leave it waiting with the reason, or refuse it
    (failed) when the console's own check finds a field the service would refuse. Returns True when the row
    is now pending (a send job is due). A row whose actions restrict nothing is deleted: no statement is due.
    """
    now = utcnow()
    try:
        statement = build(row)
    except Waiting as why:
        row.state, row.waiting_reason, row.updated_at = "waiting", str(why)[:500], now
        return False
    except NothingRestricted:
        db.session.delete(row)
        return False
    body = statement.to_json()
    row.body = body
    row.category = body["category"]
    row.ground = body["decision_ground"]
    row.automated_decision = body["automated_decision"]
    row.decision_type = ",".join(mapping.kinds_in(body))
    row.waiting_reason, row.errors, row.refused_by, row.last_error = "", None, "", ""
    row.updated_at = now
    if found := problems(body, batch=True):
        row.state, row.errors, row.refused_by = "failed", found, "console"
        row.last_error = "; ".join(f"{k}: {v[0]}" for k, v in found.items())[:500]
        return False
    row.state = "pending"
    return True


def on_case_decided(
    case: Case, *, decision: Decision, actor, unticked: Collection[int] = ()
) -> FollowUp | None:
    """Receiver of cases.signals.case_decided: the decision's statement, in the decision's transaction."""
    if decision.verdict != "violation":
        return None
    agency = agencies.agency()
    if not agency.enabled:
        return None
    country = country_of(case)
    if country is None or country not in set(agency.countries or ()):
        return None
    actions = [
        a for a in actions_for(decision.verdict, decision.policy_id) if not (a.skippable and a.id in unticked)
    ]
    if not actions:
        return None  # nothing was done on the platform: nothing restricted, nothing to state
    now = utcnow()
    row = StatementOfReasons(
        decision_id=decision.id,
        case_id=case.id,
        puid=puid_for(decision.id),
        environment=agency.environment,
        state="waiting",
        waiting_reason="",
        action_ids=[a.id for a in actions],
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    row.decision, row.case = decision, case
    db.session.add(row)
    db.session.flush()
    pending = freeze(row)
    if row in db.session.deleted:
        db.session.flush()
        return None
    audit.record(
        "sor_created",
        "statement_of_reasons",
        row.id,
        actor=actor,
        actor_label="" if actor else "system",
        case_id=case.id,
        puid=row.puid,
        state=row.state,
    )
    return FollowUp(jobs=(send_job(row.environment),)) if pending else None


def build_waiting(actor=None) -> list[tasks.Job]:
    """After a mapping changed: build every waiting statement that now can be (the caller's transaction)."""
    environments = set()
    waiting = list(
        db.session.scalars(select(StatementOfReasons).where(StatementOfReasons.state == "waiting"))
    )
    for row in waiting:
        if freeze(row):
            environments.add(row.environment)
            audit.record(
                "sor_built",
                "statement_of_reasons",
                row.id,
                actor=actor,
                actor_label="" if actor else "system",
                case_id=row.case_id,
                puid=row.puid,
            )
    return [send_job(env) for env in sorted(environments)]
