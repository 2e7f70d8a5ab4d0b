"""How long things are kept: evidence until its date unless a legal hold covers it; media nobody needs.

- A legal hold covers one report's evidence, or the evidence of every report about one reported user (also
  reports finished after the hold was placed). While any hold covering a record is in force (not released, its
  end date not reached), the record is not purged. Placing and releasing a hold are audit events.
- `purge_expired` (jobs.evidence.retention, rq cron) removes the bytes of evidence whose date has passed and
  that no hold covers. The record and its items' rows stay: what was kept, its hashes, and when it was purged.
  Each purge is an audit event.
- `delete_no_violation_media` deletes the media of cases closed as "no violation" NO_VIOLATION_MEDIA_DAYS
  after the decision (0, the default: never). It works under MEDIA_ROOT only; evidence lives in its own store
  and is never touched by it.

A hold and a purge never cross: both lock the evidence records concerned (`SELECT … FOR UPDATE` on PostgreSQL;
SQLite runs one writer at a time) before they look at the other's rows. A purge that locked first ends before
the hold looks; a hold that locked first is seen by the purge.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, or_, select

from console import audit
from console.cases.models import Case, ReportedUser
from console.evidence import store
from console.evidence.models import KEPT_STATES, EvidenceItem, EvidenceRecord, LegalHold
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile, MediaView
from console.reporting.models import ExternalReport, ReportFile
from console.timeutil import utcnow

log = logging.getLogger(__name__)

EXPIRING_DAYS = 30


class HoldError(ValueError):
    """A hold cannot be placed or released as asked; the message says why."""


# --- holds -------------------------------------------------------------------------------------------------


def hold_in_force(now: datetime):
    """SQL: a hold that is in force now."""
    return and_(LegalHold.released_at.is_(None), or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now))


def covering(now: datetime):
    """SQL: some hold in force covers the EvidenceRecord of the enclosing query."""
    return exists().where(
        hold_in_force(now),
        or_(
            LegalHold.report_id == EvidenceRecord.report_id,
            and_(
                LegalHold.reported_user_id.is_not(None),
                LegalHold.reported_user_id == EvidenceRecord.reported_user_id,
            ),
        ),
    )


def holds_covering(record: EvidenceRecord, now: datetime | None = None) -> list[LegalHold]:
    now = now or utcnow()
    scope = LegalHold.report_id == record.report_id
    if record.reported_user_id is not None:
        scope = or_(scope, LegalHold.reported_user_id == record.reported_user_id)
    return list(db.session.scalars(select(LegalHold).where(scope, hold_in_force(now)).order_by(LegalHold.id)))


def _lock_records(*conditions) -> list[EvidenceRecord]:
    return list(
        db.session.scalars(
            select(EvidenceRecord).where(*conditions).order_by(EvidenceRecord.id).with_for_update()
        )
    )


def place_hold(
    *,
    report_id: int | None = None,
    reported_user_id: int | None = None,
    reason: str,
    reference: str = "",
    ends_at: datetime | None = None,
    actor=None,
    actor_label: str = "",
) -> LegalHold:
    """Hold a finished report's evidence, or everything of a reported user, until released (or `ends_at`)."""
    reason, reference = (reason or "").strip(), (reference or "").strip()
    if (report_id is None) == (reported_user_id is None):
        raise HoldError("A hold covers one report or one reported user.")
    if not reason:
        raise HoldError("Say why the evidence is held.")
    if len(reason) > 2000 or len(reference) > 200:
        raise HoldError("The reason (2,000 characters) or the reference (200) is too long.")
    now = utcnow()
    if ends_at is not None and ends_at <= now:
        raise HoldError("The end date must be in the future.")
    if report_id is not None:
        report = db.session.get(ExternalReport, report_id)
        if report is None or report.state != "finished":
            raise HoldError("Only a finished report has preserved evidence to hold.")
        locked = _lock_records(EvidenceRecord.report_id == report_id)
        if locked and locked[0].state == "purged":
            raise HoldError(
                f"The evidence of report #{report_id} was already purged ({locked[0].purged_at:%Y-%m-%d})."
            )
        case_id = report.case_id
    else:
        if db.session.get(ReportedUser, reported_user_id) is None:
            raise HoldError("No such reported user.")
        locked = _lock_records(EvidenceRecord.reported_user_id == reported_user_id)
        case_id = None
    hold = LegalHold(
        report_id=report_id,
        reported_user_id=reported_user_id,
        reason=reason,
        reference=reference,
        ends_at=ends_at,
        placed_by_id=getattr(actor, "id", None),
        placed_by_label=actor_label,
        placed_at=now,
    )
    db.session.add(hold)
    db.session.flush()
    audit.record(
        "legal_hold_placed",
        "legal_hold",
        hold.id,
        actor=actor,
        actor_label=actor_label,
        case_id=case_id,
        scope=hold.scope_label,
        reason=reason,
        reference=reference,
        ends_at=ends_at.isoformat() if ends_at else "",
        evidence_records=[r.id for r in locked],
    )
    db.session.commit()
    sync_object_holds([r.id for r in locked])
    return hold


def release_hold(hold_id: int, *, reason: str, actor=None, actor_label: str = "") -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("Say why the hold is released.")
    if len(reason) > 2000:
        raise HoldError("The reason is too long (2,000 characters).")
    hold = db.session.scalar(select(LegalHold).where(LegalHold.id == hold_id).with_for_update())
    if hold is None:
        raise HoldError("No such hold.")
    if hold.released_at is not None:
        raise HoldError(f"This hold was already released ({hold.released_at:%Y-%m-%d %H:%M} UTC).")
    hold.released_at = utcnow()
    hold.released_by_id = getattr(actor, "id", None)
    hold.released_by_label = actor_label
    hold.release_reason = reason
    case_id = hold.report.case_id if hold.report is not None else None
    audit.record(
        "legal_hold_released",
        "legal_hold",
        hold.id,
        actor=actor,
        actor_label=actor_label,
        case_id=case_id,
        scope=hold.scope_label,
        reference=hold.reference,
        reason=reason,
    )
    scope = (
        EvidenceRecord.report_id == hold.report_id
        if hold.report_id is not None
        else EvidenceRecord.reported_user_id == hold.reported_user_id
    )
    db.session.commit()
    sync_object_holds(list(db.session.scalars(select(EvidenceRecord.id).where(scope))))
    return hold


def sync_object_holds(record_ids: list[int]) -> None:
    """With S3, each object of these records carries an S3 legal hold exactly while a hold in force covers a
    kept record that has it (the same bytes may belong to two records). After the commit; never raises: a
    failure is logged, and the next sync of the records (a hold placed or released) corrects it.

    A hold that ends by its date (not released) leaves its S3 legal hold on until the purge removes the
    object:
    longer than needed, never shorter.
    """
    if not store.locks_objects() or not record_ids:
        return
    now = utcnow()
    digests = sorted(
        set(db.session.scalars(select(EvidenceItem.sha256).where(EvidenceItem.record_id.in_(record_ids))))
    )
    for digest in digests:
        held = db.session.scalar(
            select(EvidenceItem.id)
            .join(EvidenceRecord)
            .where(EvidenceItem.sha256 == digest, EvidenceRecord.state.in_(KEPT_STATES), covering(now))
            .limit(1)
        )
        try:
            store.set_hold(digest, held is not None)
        except Exception:
            log.exception("evidence object %s: its S3 legal hold could not be set", digest)
    db.session.rollback()


# --- purge -------------------------------------------------------------------------------------------------


def expired(now: datetime, limit: int = 500) -> list[int]:
    """Records whose date has passed, that are still kept, and that no hold covers."""
    ids = list(
        db.session.scalars(
            select(EvidenceRecord.id)
            .where(
                EvidenceRecord.state.in_(KEPT_STATES), EvidenceRecord.preserve_until <= now, ~covering(now)
            )
            .order_by(EvidenceRecord.preserve_until, EvidenceRecord.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    return ids


def purge_expired(now: datetime | None = None, actor_label: str = "system") -> list[int]:
    """Purge every expired, unheld record (each in its own transaction, each an audit event)."""
    now = now or utcnow()
    return [record_id for record_id in expired(now) if _purge(record_id, now, actor_label)]


def _purge(record_id: int, now: datetime, actor_label: str) -> bool:
    locked = _lock_records(EvidenceRecord.id == record_id)
    record = locked[0] if locked else None
    # Checked again under the lock: a hold placed meanwhile wins.
    if (
        record is None
        or record.state not in KEPT_STATES
        or record.preserve_until > now
        or holds_covering(record, now)
    ):
        db.session.rollback()
        return False
    digests = sorted({item.sha256 for item in record.items})
    record.state = "purged"
    record.purged_at = now
    audit.record(
        "evidence_purged",
        "evidence",
        record.id,
        actor_label=actor_label,
        case_id=record.case_id,
        report_id=record.report_id,
        ncmec_report_id=record.ncmec_report_id,
        preserve_until=record.preserve_until.isoformat(),
        items=len(record.items),
        seal=record.seal,
    )
    db.session.commit()
    for digest in digests:
        if not _still_kept(digest):
            try:
                store.remove(digest)
            except Exception:
                # S3 refused (its lock still runs, e.g. a date extended by a purged record's twin): the record
                # is purged; the object goes when its lock allows (`flask evidence purge` again).
                log.exception("evidence object %s could not be removed", digest)
    return True


def _still_kept(digest: str) -> bool:
    """The same bytes may belong to another record (a file sent twice) that is still kept."""
    found = db.session.scalar(
        select(EvidenceItem.id)
        .join(EvidenceRecord)
        .where(EvidenceItem.sha256 == digest, EvidenceRecord.state != "purged")
        .limit(1)
    )
    db.session.rollback()
    return found is not None


# --- media of cases closed as "no violation" ----------------------------------------------------------------


def _unreported_media():
    """SQL: the MediaFile of the enclosing query was never part of a report (those stay with their report)."""
    return ~exists().where(ReportFile.media_id == MediaFile.id)


def delete_no_violation_media(now: datetime | None = None, limit: int = 200) -> int:
    """Delete the media of cases closed "no violation" over NO_VIOLATION_MEDIA_DAYS ago; returns how many."""
    days = int(current_app.config.get("NO_VIOLATION_MEDIA_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    case_ids = list(
        db.session.scalars(
            select(Case.id)
            .where(
                Case.status == "no_violation",
                Case.decided_at <= cutoff,
                exists().where(MediaFile.case_id == Case.id, _unreported_media()),
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    return sum(_delete_case_media(case_id, cutoff, days) for case_id in case_ids)


def _delete_case_media(case_id: int, cutoff: datetime, days: int) -> int:
    case = db.session.get(Case, case_id)
    if case is None or case.status != "no_violation" or case.decided_at is None or case.decided_at > cutoff:
        db.session.rollback()
        return 0
    media = list(
        db.session.scalars(select(MediaFile).where(MediaFile.case_id == case_id, _unreported_media()))
    )
    keys = [m.storage_key for m in media]
    files = [{"name": m.original_name, "sha256": m.sha256, "size": m.size} for m in media]
    ids = [m.id for m in media]
    db.session.execute(delete(MediaView).where(MediaView.media_id.in_(ids)))
    db.session.execute(delete(MediaFile).where(MediaFile.id.in_(ids)))
    audit.record(
        "media_deleted",
        "case",
        case_id,
        actor_label="system",
        case_id=case_id,
        reason=f"closed as no violation more than {days} days ago (NO_VIOLATION_MEDIA_DAYS)",
        files=files,
    )
    db.session.commit()
    db.session.expire_all()
    # After the commit: a failed commit leaves the files in place, never rows without their files' record.
    for key in keys:
        storage.remove_key(key)
    return len(ids)
