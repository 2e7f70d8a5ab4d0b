"""What the evidence pages show, read-only: computed by the views, never queried from templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from console.audit import AuditEvent
from console.evidence.models import KEPT_STATES, EvidenceRecord, LegalHold
from console.evidence.retention import EXPIRING_DAYS, hold_in_force, holds_covering
from console.extensions import db
from console.timeutil import utcnow


@dataclass
class Row:
    record: EvidenceRecord
    holds: list[LegalHold] = field(default_factory=list)


def _with_holds(records: list[EvidenceRecord], now: datetime) -> list[Row]:
    """Each record with the holds in force that cover it, in two queries whatever the number of records."""
    if not records:
        return []
    report_ids = {r.report_id for r in records}
    user_ids = {r.reported_user_id for r in records if r.reported_user_id is not None}
    holds = list(
        db.session.scalars(
            select(LegalHold).where(
                hold_in_force(now),
                or_(LegalHold.report_id.in_(report_ids), LegalHold.reported_user_id.in_(user_ids)),
            )
        )
    )
    return [
        Row(
            r,
            [
                h
                for h in holds
                if h.report_id == r.report_id
                or (h.reported_user_id is not None and h.reported_user_id == r.reported_user_id)
            ],
        )
        for r in records
    ]


@dataclass
class Overview:
    now: datetime
    expiring: list[Row]
    problems: list[EvidenceRecord]
    holds: list[LegalHold]
    days: int = EXPIRING_DAYS


def overview(now: datetime | None = None, limit: int = 200) -> Overview:
    now = now or utcnow()
    expiring = list(
        db.session.scalars(
            select(EvidenceRecord)
            .where(
                EvidenceRecord.state.in_(KEPT_STATES),
                EvidenceRecord.preserve_until <= now + timedelta(days=EXPIRING_DAYS),
            )
            .order_by(EvidenceRecord.preserve_until, EvidenceRecord.id)
            .limit(limit)
        )
    )
    problems = list(
        db.session.scalars(
            select(EvidenceRecord)
            .where(EvidenceRecord.state.in_(("pending", "incomplete")))
            .order_by(EvidenceRecord.id.desc())
            .limit(limit)
        )
    )
    holds = list(
        db.session.scalars(
            select(LegalHold)
            .where(hold_in_force(now))
            .options(selectinload(LegalHold.placed_by))
            .order_by(LegalHold.placed_at.desc())
            .limit(limit)
        )
    )
    return Overview(now, _with_holds(expiring, now), problems, holds)


@dataclass
class RecordPage:
    record: EvidenceRecord | None
    holds_in_force: list[LegalHold]
    all_holds: list[LegalHold]
    access: list[AuditEvent]


def record_page(report_id: int) -> RecordPage:
    now = utcnow()
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
    scope = LegalHold.report_id == report_id
    if record is not None and record.reported_user_id is not None:
        scope = or_(scope, LegalHold.reported_user_id == record.reported_user_id)
    all_holds = list(db.session.scalars(select(LegalHold).where(scope).order_by(LegalHold.placed_at.desc())))
    access = []
    if record is not None:
        access = list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "evidence", AuditEvent.object_id == str(record.id))
                .options(selectinload(AuditEvent.actor))
                .order_by(AuditEvent.id.desc())
                .limit(200)
            )
        )
    return RecordPage(record, [h for h in all_holds if h.is_active(now)], all_holds, access)


@dataclass
class Panel:
    """For the case and report pages: each finished report's evidence, its date and whether it is held."""

    rows: list[Row]


def for_case(case_id: int) -> Panel:
    records = list(
        db.session.scalars(
            select(EvidenceRecord).where(EvidenceRecord.case_id == case_id).order_by(EvidenceRecord.id)
        )
    )
    return Panel(_with_holds(records, utcnow()))


def for_report(report_id: int) -> Panel:
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
    return Panel([Row(record, holds_covering(record))] if record else [])
