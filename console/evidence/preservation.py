"""Preserving a finished report: what was sent to NCMEC, kept unchanged for at least a year.

18 U.S.C. §2258A(h) as amended by the REPORT Act (2024): a completed CyberTipline report is a request to
preserve its contents for one year; access to what is preserved is kept minimal and logged.

The finish hook, and why it can neither be lost nor harm the finish:
- The transaction that records a report as finished (console/reporting/pipeline.py, `_finish`) also writes its
  EvidenceRecord, state "pending", with the finish time, `preserve_until` and /finish's reply
  (`note_finished`). Both commit together: there is no finished report without its promise of evidence. The
  insert runs inside a savepoint and any error in it is logged and swallowed: the report IS finished at NCMEC,
  and nothing here may roll that back or stop the pipeline.
- Copying the content (files can be gigabytes) happens after that commit, never inside it: on SQLite an open
  transaction blocks every other writer. The worker that finished the report preserves it at once
  (`preserve_after_finish`, which never raises), while the files are surely still there.
- Whatever did not happen — the worker died, the disk was full, the savepoint insert failed, a report finished
  before this feature existed — the evidence sweep (`sweep`, jobs.evidence.sweep in rq cron) does: it creates
  the missing records of finished reports and preserves every pending one. Preservation is idempotent: the
  store is content-addressed and a record leaves "pending" once, by a compare-and-set.

What is kept (each item's SHA-256 recorded, see models.py): the report XML and every fileDetails XML exactly
as sent, each file sent (a copy, checked against the SHA-256 recorded when the report was created and the MD5
NCMEC computed when it received it), /finish's reply as received, the values NCMEC's other replies carried
(report id, file ids, MD5s: the pipeline commits them, not the reply bodies), and snapshots of the case and of
the reported user — as sent (the report's frozen payload) and as they were at preservation. A file that is
gone or changed before it could be copied is not replaced by what is there now: the record is "incomplete"
and says which.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Engine, select, update

from console import audit
from console.evidence import contents, retention, store
from console.evidence.models import EvidenceItem, EvidenceRecord
from console.extensions import db
from console.media import storage
from console.reporting.models import ExternalReport
from console.timeutil import utcnow

log = logging.getLogger(__name__)

ONE_YEAR_DAYS = 365
ALREADY_FINISHED = 5102


# --- how long ----------------------------------------------------------------------------------------------


def _one_year_after(moment: datetime) -> datetime:
    year = moment.year + 1
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])  # 29 February → 28 February
    return moment.replace(year=year, day=day) + (timedelta(days=1) if day != moment.day else timedelta())


def preserve_until(finished_at: datetime) -> datetime:
    """One calendar year after the finish, or EVIDENCE_PRESERVE_DAYS if that is longer: never less."""
    days = max(int(current_app.config.get("EVIDENCE_PRESERVE_DAYS", ONE_YEAR_DAYS)), ONE_YEAR_DAYS)
    return max(_one_year_after(finished_at), finished_at + timedelta(days=days))


# --- in the finish transaction ------------------------------------------------------------------------------


def finish_reply(finished, already_finished: bool = False) -> dict:
    """/finish's reply as a record keeps it (a FinishResult, or None when NCMEC said 5102 on a retry).

    Called by the pipeline between /finish and recording it: it never raises.
    """
    if already_finished:
        return {
            "response_code": ALREADY_FINISHED,
            "note": "NCMEC answered 'already finished' to a repeated /finish: an earlier call finished it",
        }
    try:
        raw = getattr(finished, "raw_reply", b"") or b""
        return {
            "response_code": 0,
            "report_id": str(getattr(finished, "report_id", "") or ""),
            "file_ids": [str(f) for f in getattr(finished, "file_ids", ()) or ()],
            "raw": raw.decode("utf-8", "replace") if isinstance(raw, bytes) else "",
        }
    except Exception:
        log.exception("could not read /finish's reply for the evidence")
        return {}


def note_finished(report_id: int, finished_at: datetime, reply: dict) -> None:
    """Add the report's pending evidence record to the transaction that records its finish. Never raises."""
    try:
        with db.session.begin_nested():
            exists = db.session.scalar(select(EvidenceRecord.id).where(EvidenceRecord.report_id == report_id))
            if exists is None:
                report = db.session.get(ExternalReport, report_id)
                db.session.add(_new_record(report, finished_at, reply))
    except Exception:
        log.exception(
            "report %s: no evidence record in the finish transaction; the evidence sweep adds it", report_id
        )


def _new_record(report: ExternalReport, finished_at: datetime, reply: dict | None = None) -> EvidenceRecord:
    return EvidenceRecord(
        report_id=report.id,
        case_id=report.case_id,
        reported_user_id=report.case.reported_user_id,
        ncmec_report_id=report.ncmec_report_id or "",
        finished_at=finished_at,
        preserve_until=preserve_until(finished_at),
        state="pending",
        finish_reply=reply or {},
    )


# --- after the commit ---------------------------------------------------------------------------------------


def preserve_after_finish(report_id: int) -> None:
    """The worker that finished the report preserves it now. Never raises: the sweep retries what fails.

    Preserving commits, so it runs only where the session owns its transactions: inside someone else's (the
    worker's warm-up files a report in a transaction it rolls back) it leaves the work to the sweep.
    """
    if not isinstance(db.session.get_bind(), Engine):
        return
    try:
        preserve(report_id)
    except Exception as e:
        db.session.rollback()
        log.exception("report %s: evidence not preserved yet; the evidence sweep retries", report_id)
        _note_failure(report_id, e)


def _note_failure(report_id: int, error: Exception) -> None:
    try:
        db.session.execute(
            update(EvidenceRecord)
            .where(EvidenceRecord.report_id == report_id, EvidenceRecord.state == "pending")
            .values(attempts=EvidenceRecord.attempts + 1, last_error=(str(error) or repr(error))[:2000])
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("report %s: could not note the preservation failure", report_id)


def _copy(item: contents.Planned, until: datetime) -> tuple[store.Stored | None, str]:
    """Put one item in the store; (None, problem) when a file is gone or is not what was sent."""
    if item.data is not None:
        return store.put_bytes(item.data, retain_until=until), ""
    if item.storage_key is None:
        return None, f"{item.name}: its media row is gone, the file was not copied"
    try:
        # Streamed from wherever the media lives (a file here, or the media bucket) into the evidence store.
        with storage.open_stored(item.storage_key) as source:
            stored = store.put_stream(
                source, retain_until=until, expect=(item.expect_sha256, item.expect_md5 or "")
            )
    except FileNotFoundError:
        return None, f"{item.name}: the media file was deleted before it could be copied"
    if not stored.kept:
        return None, f"{item.name}: the media file changed since it was sent (its hashes differ); not kept"
    return stored, ""


def preserve(report_id: int, actor_label: str = "worker") -> str:
    """Copy a finished report's evidence into the store and record it. Returns the record's state."""
    db.session.rollback()
    report = db.session.get(ExternalReport, report_id)
    if report is None or report.state != "finished":
        db.session.rollback()
        return "not_finished"
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))
    if record is None:
        record = _new_record(report, report.finished_at or utcnow())
        db.session.add(record)
        db.session.commit()
    if record.state != "pending":
        state = record.state
        db.session.rollback()
        return state
    record_id, until, case_id, ncmec_id = (
        record.id,
        record.preserve_until,
        report.case_id,
        report.ncmec_report_id,
    )
    planned, problems = contents.plan(report, record)
    # Nothing is copied inside a transaction: on SQLite it would hold every other writer up meanwhile.
    db.session.rollback()

    rows, created = [], []
    for position, item in enumerate(planned):
        stored, problem = _copy(item, until)
        if problem:
            problems.append(problem)
            continue
        if stored.created:
            created.append(stored.sha256)
        rows.append(
            dict(
                record_id=record_id,
                position=position,
                kind=item.kind,
                name=item.name,
                media_type=item.media_type,
                size=stored.size,
                sha256=stored.sha256,
                md5=stored.md5 if item.kind == "file" else "",
                original_name=item.original_name,
            )
        )
    state = "incomplete" if problems else "preserved"
    now, sealed = utcnow(), seal(rows)
    # Leaves "pending" once: a second preserver (the sweep beside the worker) finds nothing to do.
    won = db.session.execute(
        update(EvidenceRecord)
        .where(EvidenceRecord.id == record_id, EvidenceRecord.state == "pending")
        .values(state=state, preserved_at=now, seal=sealed, problems=problems, last_error="")
    ).rowcount
    if won != 1:
        db.session.rollback()
        for digest in created:
            if not _referenced(digest):
                try:
                    store.remove(digest)
                except Exception:  # S3 keeps a locked object until its date: it expires unreferenced
                    log.exception("evidence object %s could not be removed", digest)
        return (
            db.session.scalar(select(EvidenceRecord.state).where(EvidenceRecord.id == record_id)) or "pending"
        )
    db.session.add_all(EvidenceItem(**row) for row in rows)
    audit.record(
        f"evidence_{state}",
        "evidence",
        record_id,
        actor_label=actor_label,
        case_id=case_id,
        report_id=report_id,
        ncmec_report_id=ncmec_id,
        items=len(rows),
        preserve_until=until.isoformat(),
        seal=sealed,
        **({"problems": problems} if problems else {}),
    )
    db.session.commit()
    retention.sync_object_holds([record_id])  # a hold on the reported user may cover it already
    return state


def seal(rows) -> str:
    """SHA-256 over the items' (kind, name, size, SHA-256), in order: the record's content as one hash."""
    listing = [
        [r["kind"], r["name"], r["size"], r["sha256"]]
        if isinstance(r, dict)
        else [r.kind, r.name, r.size, r.sha256]
        for r in rows
    ]
    return hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()


def _referenced(digest: str) -> bool:
    found = db.session.scalar(
        select(EvidenceItem.id)
        .join(EvidenceRecord)
        .where(EvidenceItem.sha256 == digest, EvidenceRecord.state != "purged")
        .limit(1)
    )
    db.session.rollback()
    return found is not None


# --- the sweep ----------------------------------------------------------------------------------------------


def sweep(limit: int = 100) -> int:
    """Create the missing records of finished reports, and preserve every pending one. Returns how many."""
    missing = list(
        db.session.scalars(
            select(ExternalReport.id)
            .outerjoin(EvidenceRecord, EvidenceRecord.report_id == ExternalReport.id)
            .where(ExternalReport.state == "finished", EvidenceRecord.id.is_(None))
            .order_by(ExternalReport.id)
            .limit(limit)
        )
    )
    pending = list(
        db.session.scalars(
            select(EvidenceRecord.report_id)
            .where(EvidenceRecord.state == "pending")
            .order_by(EvidenceRecord.attempts, EvidenceRecord.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    done = 0
    for report_id in dict.fromkeys(missing + pending):
        try:
            if preserve(report_id, actor_label="system") in ("preserved", "incomplete"):
                done += 1
        except Exception as e:
            db.session.rollback()
            log.exception("report %s: evidence not preserved; the next sweep retries", report_id)
            _note_failure(report_id, e)
    return done
