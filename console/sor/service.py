"""What admins change about statements of reasons, each in its own transaction (commit, then enqueue).

Saving an environment un-pauses it and wakes its queue; a mapping change builds the statements that waited
for it; Resend puts a failed statement back (built again from the mapping as it is now: the service never
stored it, so its PUID is still free for it), or asks again about a pending one now.
"""

from __future__ import annotations

from sqlalchemy import update

from console import audit, tasks
from console.extensions import db
from console.sor import agency as agencies
from console.sor import building, mapping
from console.sor.models import StatementOfReasons
from console.timeutil import utcnow


def save_environment(name: str, *, base_url: str, token: str = "", actor=None) -> None:
    try:
        agencies.save_environment(name, base_url=base_url, token=token, actor=actor)
    except agencies.AgencyError:
        db.session.rollback()
        raise
    tasks.commit_then_enqueue([building.send_job(name)])


def save_agency(*, enabled: bool, environment: str, countries: list[str], actor=None) -> None:
    try:
        agencies.save_agency(enabled=enabled, environment_name=environment, countries=countries, actor=actor)
    except agencies.AgencyError:
        db.session.rollback()
        raise
    tasks.commit_then_enqueue([building.send_job(environment)] if enabled else [])


def test_connection(name: str, actor=None) -> agencies.Check:
    check = agencies.test_connection(name, actor=actor)
    db.session.commit()
    return check


def _after_mapping(actor) -> None:
    tasks.commit_then_enqueue(building.build_waiting(actor))


def save_policy_mapping(policy_id: int, form: dict, actor=None) -> None:
    try:
        mapping.set_policy_mapping(policy_id, form, actor)
    except (mapping.MappingError, LookupError):
        db.session.rollback()
        raise
    _after_mapping(actor)


def save_action_mapping(action_id: int, form: dict, actor=None) -> None:
    try:
        mapping.set_action_mapping(action_id, form, actor)
    except (mapping.MappingError, LookupError):
        db.session.rollback()
        raise
    _after_mapping(actor)


def save_sources(values: dict[str, str], actor=None) -> None:
    try:
        for kind, value in values.items():
            mapping.set_source_mapping(kind, value, actor)
    except mapping.MappingError:
        db.session.rollback()
        raise
    _after_mapping(actor)


def resend(sor_id: int, actor=None) -> bool:
    """Admin "Resend": a failed statement built again and sent; a pending one asked about now."""
    row = db.session.get(StatementOfReasons, sor_id)
    if row is None:
        raise LookupError(f"no statement of reasons {sor_id}")
    if row.state == "failed":
        building.freeze(row)
    elif row.state == "pending":
        db.session.execute(
            update(StatementOfReasons)
            .where(StatementOfReasons.id == sor_id, StatementOfReasons.state == "pending")
            .values(next_attempt_at=None, updated_at=utcnow())
        )
    else:
        db.session.rollback()
        return False
    audit.record(
        "sor_resent",
        "statement_of_reasons",
        sor_id,
        actor=actor,
        actor_label="" if actor else "cli",
        case_id=row.case_id,
        puid=row.puid,
        state=row.state,
    )
    pending = row.state == "pending"
    env = row.environment
    tasks.commit_then_enqueue([building.send_job(env)] if pending else [])
    return pending
