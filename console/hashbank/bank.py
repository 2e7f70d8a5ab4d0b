"""Banking finished reports: each file's hashes go into the bank under the report's CyberTip id.

`on_report_finished` receives reporting's `report_finished` signal, sent in the transaction that records the
finish (console/reporting/pipeline.py): it does nothing there but hand back the banking job
(jobs.hashbank.bank_report), promised by a follow-up row of reporting's and run once per report after the
finish's commit (console/reporting/follow_ups.py). Banking copies rows only (each file's SHA-256 and MD5 from
the report, its PDQ and a detector's hashes from media_hashes, written at ingestion): no file is read, nothing
waits. Whatever it could not do, the bank sweep (`sweep`, jobs.hashbank.sweep from rq cron) does, including
the PDQ of an image that has none (stored before the bank existed, or not through the API). One source per
report (a unique report_id) makes banking twice a no-op.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from console import audit, tasks
from console.extensions import db
from console.hashbank import hashing
from console.hashbank.hashing import MD5, PDQ, SHA256
from console.hashbank.matching import record_pdq
from console.hashbank.models import HashEntry, HashSource, MediaHash, PdqFeed
from console.media.models import MediaFile
from console.reporting.models import ExternalReport, ReportFile
from console.timeutil import utcnow

log = logging.getLogger(__name__)

# How far back the sweep looks for finished reports that were not banked (`flask hashbank backfill`: all).
SWEEP_DAYS = 7


BANK_JOB = "jobs.hashbank.bank_report"


def on_report_finished(report_id: int, **_details) -> list[tasks.Job]:
    """Receiver of reporting.signals.report_finished, in the finish's own transaction: the banking job, for
    after its commit (it touches nothing here)."""
    return [tasks.Job(BANK_JOB, (report_id,))]


def bank_report(report_id: int) -> HashSource | None:
    """Add a finished report's hashes to the bank under its CyberTip id (in the caller's transaction).

    None when there is nothing to do: not finished, or banked already. Reads columns, not the report
    object: the pipeline's session may hold the row as it was before the finish.
    """
    row = db.session.execute(
        select(ExternalReport.state, ExternalReport.ncmec_report_id, ExternalReport.case_id).where(
            ExternalReport.id == report_id
        )
    ).first()
    if row is None or row.state != "finished" or not row.ncmec_report_id:
        return None
    if db.session.scalar(select(HashSource.id).where(HashSource.report_id == report_id)) is not None:
        return None
    cybertip = row.ncmec_report_id
    files = db.session.execute(
        select(ReportFile.media_id, ReportFile.sha256, ReportFile.md5)
        .where(ReportFile.report_id == report_id)
        .order_by(ReportFile.position)
    ).all()
    hashes: dict[tuple[str, str], int] = {}
    for media_id, sha256, md5 in files:
        hashes.setdefault((SHA256, sha256), media_id)
        hashes.setdefault((MD5, md5), media_id)
    media_ids = [f.media_id for f in files]
    if media_ids:
        for extra in db.session.scalars(select(MediaHash).where(MediaHash.media_id.in_(media_ids))):
            if (
                extra.algorithm == PDQ
                and extra.quality is not None
                and extra.quality < hashing.PDQ_MIN_QUALITY
            ):
                continue  # a featureless image's PDQ would match unrelated ones
            hashes.setdefault((extra.algorithm, extra.value), extra.media_id)
    source = HashSource(
        kind="report", label=f"CyberTip {cybertip}", report_id=report_id, cybertip_id=cybertip
    )
    db.session.add(source)
    db.session.flush()
    rows = [
        {"source_id": source.id, "algorithm": a, "value": v, "cybertip_id": cybertip, "media_id": m}
        for (a, v), m in hashes.items()
    ]
    source.entry_count = add_entries(rows)
    audit.record(
        "report_hashes_banked",
        "external_report",
        report_id,
        actor_label="worker",
        case_id=row.case_id,
        cybertip=cybertip,
        hashes=source.entry_count,
    )
    return source


def add_entries(rows: list[dict]) -> int:
    """Insert entries (a duplicate within a source is skipped) and feed the PDQ ones to the index."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    construct = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if construct is None:
        raise RuntimeError(f"the hash bank supports SQLite and PostgreSQL, not {dialect}")
    statement = (
        construct(HashEntry)
        .on_conflict_do_nothing(index_elements=["source_id", "algorithm", "value"])
        .returning(HashEntry.id, HashEntry.algorithm)
    )
    added = db.session.execute(statement, rows).all()
    pdq = [{"entry_id": entry_id} for entry_id, algorithm in added if algorithm == PDQ]
    if pdq:
        db.session.execute(insert(PdqFeed), pdq)
    return len(added)


def sweep(limit: int = 200, days: float | None = SWEEP_DAYS) -> int:
    """Bank finished reports the finish hook did not (its savepoint failed, or they predate the bank), and
    the PDQ of banked images that had none (stored before the bank, or never through the API). Returns the
    number of reports banked."""
    since = utcnow() - timedelta(days=days) if days is not None else None
    query = select(ExternalReport.id).where(
        ExternalReport.state == "finished",
        ~exists(select(HashSource.id).where(HashSource.report_id == ExternalReport.id)),
    )
    if since is not None:
        query = query.where(ExternalReport.finished_at >= since)
    ids = list(db.session.scalars(query.order_by(ExternalReport.id).limit(limit)))
    db.session.rollback()
    banked = 0
    for report_id in ids:
        try:
            if bank_report(report_id) is not None:
                banked += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("report %s: could not bank its hashes", report_id)
    _hash_banked_images(limit, since)
    return banked


def _hash_banked_images(limit: int, since) -> int:
    """A banked image without a PDQ: decode it now (a worker, off the finish) and bank its PDQ."""
    query = (
        select(HashEntry.source_id, HashEntry.media_id, HashEntry.cybertip_id)
        .join(HashSource, HashSource.id == HashEntry.source_id)
        .join(MediaFile, MediaFile.id == HashEntry.media_id)
        .where(
            HashSource.kind == "report",
            HashEntry.algorithm == SHA256,
            MediaFile.kind == "image",
            ~exists(
                select(MediaHash.id).where(
                    MediaHash.media_id == HashEntry.media_id,
                    MediaHash.algorithm == PDQ,
                    MediaHash.computed_by == "console",
                )
            ),
        )
    )
    if since is not None:
        query = query.where(HashSource.created_at >= since)
    rows = db.session.execute(query.limit(limit)).all()
    db.session.rollback()
    for source_id, media_id, cybertip in rows:
        try:
            value = record_pdq(db.session.get(MediaFile, media_id))
            if value is not None:
                row = {"source_id": source_id, "algorithm": PDQ, "value": value, "cybertip_id": cybertip}
                added = add_entries([{**row, "media_id": media_id}])
                db.session.execute(
                    update(HashSource)
                    .where(HashSource.id == source_id)
                    .values(entry_count=HashSource.entry_count + added)
                )
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("media %s: could not hash it for the bank", media_id)
    return len(rows)
