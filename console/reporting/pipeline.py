"""Filing a report with the CyberTipline: a resumable, forward-only state machine persisted in the database.

    queued ─submit→ submitted ─upload+fileinfo per file→ files_uploaded ─finish→ finished
       └─ submit_unknown (timeout after sending; retried)      failed / waiting_credentials (parked) → resume

Rules that make "exactly one finished report per content" hold when jobs run twice, workers die or NCMEC
misbehaves:
- A worker drives a report only while it holds the row's lease (a compare-and-set UPDATE checked by rowcount),
  and renews it before every call; a worker that lost its lease stops before the next call.
- Every id NCMEC returns is committed before the next call; once a report id is stored, submit is never
  called again for that row. Finish is only ever called for the stored id; 5102 "already finished" on a retry
  is success.
- No database transaction is held across a network call (on SQLite it would block every other writer).
- A timeout after /submit was sent may leave an open report at NCMEC that we never learn the id of. We submit
  again; the orphan is never finished, so NCMEC deletes it (reportedly after 24 h).
  Only finished reports count.
- An upload whose outcome is unknown (timeout or drop after sending, a worker killed mid-upload, a checksum
  that does not match) may have left a copy of the file in the open report that we cannot describe or
  remove. That report is abandoned — never finished, retracted as a courtesy, expired by NCMEC anyway — and
  the content is filed again on a new report, so every finished report holds exactly the files we meant, each
  with its fileinfo. A start-over is bounded (REPORT_MAX_RESTARTS), then the report needs a person.
- No error can make a report retry forever: transport failures and documented 1xxx codes are retried with
  backoff up to REPORT_MAX_ATTEMPTS, undocumented codes up to REPORT_UNKNOWN_CODE_ATTEMPTS, then the report
  is parked as failed with the reason. A document NCMEC's XSD refuses is never sent (the client checks it).
- RQ's scheduler keeps run times in whole seconds, so a retry scheduled for 12:00:05.8 may start at
  12:00:05. A claim therefore accepts a report due within SCHEDULER_TOLERANCE: a retry runs at its backoff
  time give or take the scheduler's granularity, never a sweep interval later.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from console import audit, tasks
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile
from console.ncmec import (
    CyberTiplineError,
    DataError,
    IncidentType,
    NeedsAdminError,
    ReportStateError,
    RetryableError,
    UnknownCodeError,
)
from console.ncmec.errors import ChecksumMismatchError, IndeterminateError
from console.reporting import agencies, documents, filing
from console.reporting.credentials import CredentialsError
from console.reporting.models import ACTIVE_STATES, RETRYABLE_STATES, ExternalReport, ReportFile
from console.timeutil import utcnow

log = logging.getLogger(__name__)

JOB = "jobs.reports.file_report"


class LeaseLost(Exception):
    """Another worker took the report over (our lease expired); stop before making any further call."""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease_seconds() -> float:
    return current_app.config["REPORT_LEASE_SECONDS"]


# How early a scheduled job may wake and still claim its report: RQ's scheduler truncates run times to whole
# seconds (up to 1 s early), plus a margin for the clocks of several hosts.
SCHEDULER_TOLERANCE = timedelta(seconds=1.5)


def claim(report_id: int, owner: str) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(ExternalReport)
        .where(
            ExternalReport.id == report_id,
            ExternalReport.state.in_(ACTIVE_STATES),
            or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
            or_(
                ExternalReport.next_attempt_at.is_(None),
                ExternalReport.next_attempt_at <= now + SCHEDULER_TOLERANCE,
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=_lease_seconds()),
            attempts=ExternalReport.attempts + 1,
            updated_at=now,
        )
    ).rowcount
    db.session.commit()
    if claimed == 1:
        _lease_until[owner] = now + timedelta(seconds=_lease_seconds())
    return claimed == 1


def _update_owned(report_id: int, owner: str, *conditions, **values) -> None:
    """Write `values` to the report only while we hold its lease (and `conditions` hold); else LeaseLost."""
    changed = db.session.execute(
        update(ExternalReport)
        .where(ExternalReport.id == report_id, ExternalReport.lease_owner == owner, *conditions)
        .values(**values)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise LeaseLost(report_id)


# When each lease we hold runs out, as we last wrote it. While more than half of it is left, nobody else can
# hold the report (a claim needs an expired lease), so a call may go ahead without another durable write.
_lease_until: dict[str, object] = {}


def _renew(report_id: int, owner: str, **values) -> None:
    """Make sure we hold the lease for well over a call's longest duration (and write `values`)."""
    now = utcnow()
    until = _lease_until.get(owner)
    cfg = current_app.config
    # A call may last up to both timeouts (and we must not outlive the lease during it): keep a wide margin.
    needed = max(_lease_seconds() / 2, cfg["NCMEC_CONNECT_TIMEOUT"] + cfg["NCMEC_READ_TIMEOUT"] + 5)
    if not values and until is not None and (until - now).total_seconds() > needed:
        return
    until = now + timedelta(seconds=_lease_seconds())
    _update_owned(report_id, owner, lease_expires_at=until, updated_at=now, **values)
    db.session.commit()
    _lease_until[owner] = until


def _release(report_id: int, owner: str, **values) -> None:
    _lease_until.pop(owner, None)
    db.session.rollback()
    db.session.execute(
        update(ExternalReport)
        .where(ExternalReport.id == report_id, ExternalReport.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow(), **values)
    )
    db.session.commit()


def _fresh(report_id: int) -> ExternalReport:
    db.session.expire_all()
    return db.session.get(ExternalReport, report_id)


def drive(report_id: int, owner: str | None = None, client=None) -> str | None:
    """Take the report as far as it can go now. Returns its state, or None if another worker holds it."""
    owner = owner or new_owner()
    if not claim(report_id, owner):
        return None
    try:
        report = _fresh(report_id)
        cfg = current_app.config
        client = client or agencies.client_for(
            report.agency,
            connect_timeout=cfg["NCMEC_CONNECT_TIMEOUT"],
            read_timeout=cfg["NCMEC_READ_TIMEOUT"],
        )
        db.session.commit()
        while True:
            report = _fresh(report_id)
            if report.state == "finished":
                break
            if report.ncmec_report_id is None:
                _submit(report, client, owner)
                continue
            pending = next((f for f in report.files if f.ncmec_file_id is None or not f.fileinfo_sent), None)
            if pending is not None:
                _send_file(report, pending, client, owner)
                continue
            _finish(report, client, owner)
        _release(report_id, owner, attempts=0)
        return "finished"
    except LeaseLost:
        db.session.rollback()
        log.warning("report %s: lease lost, another worker continues", report_id)
        return None
    except (NeedsAdminError, CredentialsError) as e:
        _park(report_id, owner, "waiting_credentials", "admin", e)
        return "waiting_credentials"
    except UnknownCodeError as e:
        if _attempts(report_id) >= current_app.config["REPORT_UNKNOWN_CODE_ATTEMPTS"]:
            _park(report_id, owner, "failed", "service", e)
            return "failed"
        return _schedule_retry(report_id, owner, e)
    except RetryableError as e:
        if _attempts(report_id) >= current_app.config["REPORT_MAX_ATTEMPTS"]:
            _park(report_id, owner, "failed", "retry", e)
            return "failed"
        return _schedule_retry(report_id, owner, e)
    except (DataError, ReportStateError, filing.ReportingError, OSError, ValueError) as e:
        _park(report_id, owner, "failed", "data", e)
        return "failed"
    except Exception as e:
        log.exception("report %s: unexpected error", report_id)
        _park(report_id, owner, "failed", "bug", e)
        return "failed"


def _attempts(report_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(ExternalReport.attempts).where(ExternalReport.id == report_id)) or 0


def _submit(report: ExternalReport, client, owner: str) -> None:
    report_id = report.id
    xml = documents.report_document(report)
    _renew(report_id, owner, report_xml=xml.decode())
    try:
        ncmec_id = client.submit(xml)
    except IndeterminateError:
        # The report may have been opened; it has no id we know of and will never be finished.
        _renew(report_id, owner, state="submit_unknown")
        raise
    # Once a report id is stored, submit is never called again for this row.
    _update_owned(
        report_id,
        owner,
        ExternalReport.ncmec_report_id.is_(None),
        ncmec_report_id=ncmec_id,
        state="submitted",
        submitted_at=utcnow(),
        last_error="",
        error_kind="",
        attempts=0,
    )
    audit.record(
        "report_submitted",
        "external_report",
        report_id,
        actor_label="worker",
        case_id=report.case_id,
        ncmec_report_id=ncmec_id,
    )
    db.session.commit()


def _send_file(report: ExternalReport, f: ReportFile, client, owner: str) -> None:
    report_id, file_row, ncmec_id = report.id, f.id, report.ncmec_report_id
    if f.ncmec_file_id is None:
        if f.upload_started_at is not None:
            # An earlier upload of this file was sent and never answered (or its worker died): the open
            # report may hold a copy we cannot describe. Never finish that report.
            _start_over(report_id, owner, ncmec_id, "an upload's outcome was unknown", client)
            return
        media = db.session.get(MediaFile, f.media_id)
        path, name = storage.path_for(media), f.original_name
        _renew(report_id, owner)
        _record_file(report_id, owner, file_row, upload_started_at=utcnow())  # durable before the call
        try:
            uploaded = client.upload(ncmec_id, path, filename=name)
        except IndeterminateError:
            raise  # the marker stays: the next attempt starts over on a new report
        except ChecksumMismatchError as e:
            _start_over(report_id, owner, ncmec_id, str(e), client)
            return
        except ReportStateError as e:
            if e.report_missing or e.already_retracted:
                _start_over(report_id, owner, ncmec_id, str(e), client)
                return
            raise
        except (CyberTiplineError, OSError):
            # Refused before the service stored anything (connection refused, 5xx, an error code, a file we
            # could not read): the same report can take the file on the next attempt.
            _record_file(report_id, owner, file_row, upload_started_at=None)
            raise
        _record_file(
            report_id,
            owner,
            file_row,
            ncmec_file_id=uploaded.file_id,
            ncmec_md5=uploaded.md5,
            upload_started_at=None,
        )
        return
    xml = documents.file_document(report, f)
    _renew(report_id, owner)
    try:
        client.fileinfo(xml)
    except ReportStateError as e:
        if not e.file_missing:
            raise
        # NCMEC does not know the file (it was lost on their side): upload it again.
        _record_file(report_id, owner, file_row, ncmec_file_id=None, ncmec_md5=None, fileinfo_sent=False)
        return
    _record_file(report_id, owner, file_row, fileinfo_sent=True, fileinfo_xml=xml.decode())


def _record_file(report_id: int, owner: str, file_row: int, **values) -> None:
    holds = select(ExternalReport.id).where(
        ExternalReport.id == report_id, ExternalReport.lease_owner == owner
    )
    changed = db.session.execute(
        update(ReportFile).where(ReportFile.id == file_row, ReportFile.report_id.in_(holds)).values(**values)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise LeaseLost(report_id)
    done = (
        db.session.scalar(
            select(db.func.count())
            .select_from(ReportFile)
            .where(
                ReportFile.report_id == report_id,
                or_(ReportFile.ncmec_file_id.is_(None), ReportFile.fileinfo_sent.is_(False)),
            )
        )
        == 0
    )
    if done:
        _renew(report_id, owner, attempts=0, state="files_uploaded")
    else:
        db.session.commit()


def _finish(report: ExternalReport, client, owner: str) -> None:
    report_id, ncmec_id, case_id = report.id, report.ncmec_report_id, report.case_id
    _renew(report_id, owner)
    try:
        client.finish(ncmec_id)
    except ReportStateError as e:
        if not e.already_finished:
            if e.report_missing or e.already_retracted:
                _start_over(report_id, owner, ncmec_id, str(e), client)
                return
            raise
    now = utcnow()
    _update_owned(
        report_id,
        owner,
        state="finished",
        finished_at=now,
        updated_at=now,
        last_error="",
        error_kind="",
        next_attempt_at=None,
    )
    audit.record(
        "report_finished",
        "external_report",
        report_id,
        actor_label="worker",
        case_id=case_id,
        ncmec_report_id=ncmec_id,
    )
    db.session.commit()


def _start_over(report_id: int, owner: str, old_id: str, reason: str, client=None) -> None:
    """Abandon the open report ``old_id`` and file the content again from the start, on a new report.

    Used when NCMEC no longer has the report (expired, retracted) and when it may hold a file copy we did not
    mean (an upload's outcome unknown). The abandoned report is never finished; it is retracted as a courtesy
    (NCMEC would expire it anyway), after our own records no longer point at it.
    """
    report = _fresh(report_id)
    if report.lease_owner != owner:
        raise LeaseLost(report_id)
    restarts = report.payload.get("restarts", 0) + 1  # since the last Retry by a person
    if restarts > current_app.config["REPORT_MAX_RESTARTS"]:
        raise filing.ReportingError(
            f"filed anew {restarts - 1} times and still not finished ({reason}); a person must look"
        )
    abandoned = [*report.payload.get("retracted_ids", []), old_id]
    report.payload = {**report.payload, "retracted_ids": abandoned, "restarts": restarts}
    report.ncmec_report_id = None
    report.state = "queued"
    report.last_error = f"NCMEC report {old_id} abandoned ({reason}); filing it again"
    for f in report.files:
        f.ncmec_file_id, f.ncmec_md5, f.fileinfo_sent, f.upload_started_at = None, None, False, None
    audit.record(
        "report_restarted",
        "external_report",
        report_id,
        actor_label="worker",
        case_id=report.case_id,
        old_ncmec_report_id=old_id,
        reason=reason[:500],
    )
    db.session.commit()
    if client is not None:
        try:
            client.retract(old_id)
        except CyberTiplineError as e:  # already gone, or unreachable: NCMEC expires it either way
            log.info("report %s: could not retract abandoned NCMEC report %s: %s", report_id, old_id, e)


def _retry_delay(attempts: int) -> float:
    cfg = current_app.config
    return min(
        cfg["REPORT_RETRY_BASE_SECONDS"] * (2 ** max(attempts - 1, 0)), cfg["REPORT_RETRY_MAX_SECONDS"]
    )


def _schedule_retry(report_id: int, owner: str, error: CyberTiplineError) -> str:
    db.session.rollback()
    attempts = db.session.scalar(select(ExternalReport.attempts).where(ExternalReport.id == report_id)) or 1
    delay = _retry_delay(attempts)
    due = utcnow() + timedelta(seconds=delay)
    _release(report_id, owner, next_attempt_at=due, last_error=str(error)[:2000], error_kind="retry")
    try:
        tasks.task_queue().enqueue_at(due, JOB, report_id)
    except Exception:  # Redis down: the sweep re-enqueues it
        log.exception("report %s: could not schedule the retry", report_id)
    state = db.session.scalar(select(ExternalReport.state).where(ExternalReport.id == report_id))
    db.session.commit()
    return state


def _park(report_id: int, owner: str, state: str, kind: str, error: Exception) -> None:
    db.session.rollback()
    message = str(error) or error.__class__.__name__
    _release(report_id, owner, state=state, error_kind=kind, last_error=message[:2000])
    case_id = db.session.scalar(select(ExternalReport.case_id).where(ExternalReport.id == report_id))
    audit.record(
        f"report_{state}",
        "external_report",
        report_id,
        actor_label="worker",
        case_id=case_id,
        reason=message[:500],
    )
    db.session.commit()


class _DryRunClient:
    """Answers like the CyberTipline without a network: for warm_up only."""

    def submit(self, xml: bytes) -> str:
        return "0"

    def upload(self, report_id: str, path, filename: str | None = None):
        from console.ncmec import UploadResult

        return UploadResult(file_id="warm-up", md5="0" * 32)

    def fileinfo(self, xml: bytes) -> None:
        return None

    def finish(self, report_id: str):
        from console.ncmec import FinishResult

        return FinishResult(report_id=report_id, file_ids=())


def warm_up() -> str | None:
    """File one synthetic report inside a transaction that is rolled back, in a worker's main process.

    A forking worker runs each job in a fresh work-horse; without this, every horse compiles every SQL
    statement of the pipeline again (SQLAlchemy's compiled cache lives in process memory). Forks inherit the
    parent's cache. Nothing is committed and no network call is made.
    """
    from sqlalchemy.orm import Session, configure_mappers

    from console.cases.models import Case
    from console.queues.models import Queue

    configure_mappers()
    with db.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        db.session.registry.set(session)
        try:
            queue = Queue(name="warm-up", slug="warm-up", source_kind="ai_review")
            session.add(queue)
            session.flush()
            now = utcnow()
            case = Case(
                queue_id=queue.id,
                source_kind="ai_review",
                reported_at=now,
                received_at=now,
                content_url="https://warm-up.invalid/",
            )
            session.add(case)
            session.flush()
            media = MediaFile(
                case_id=case.id,
                storage_key="warm-up",
                original_name="warm-up.png",
                mime_type="image/png",
                kind="image",
                size=1,
                sha256="0" * 64,
                md5="0" * 32,
            )
            session.add(media)
            session.flush()
            agency = agencies.ncmec()
            incident = IncidentType.CHILD_PORNOGRAPHY.value
            report = ExternalReport(
                agency_id=agency.id,
                case_id=case.id,
                fingerprint="warm-up",
                incident_type=incident,
                contact_first_name="Warm",
                contact_last_name="Up",
                contact_email="warm-up@invalid.example",
                payload=filing.build_payload(case, _WarmRule(), incident),
                created_at=now,
                updated_at=now,
                files=[
                    ReportFile(
                        media_id=media.id,
                        original_name="warm-up.png",
                        sha256="0" * 64,
                        md5="0" * 32,
                        annotations=[],
                    )
                ],
            )
            session.add(report)
            session.commit()  # releases the savepoint only
            return drive(report.id, client=_DryRunClient())
        finally:
            session.close()
            outer.rollback()
            db.session.registry.clear()


class _WarmRule:
    contact_first_name, contact_last_name, contact_email = "Warm", "Up", "warm-up@invalid.example"


# --- operator actions and the sweep ------------------------------------------------------------------------


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
    db.session.commit()
    tasks.enqueue(JOB, report_id)
    return True


def resume_waiting_for_credentials(actor=None) -> int:
    ids = list(
        db.session.scalars(select(ExternalReport.id).where(ExternalReport.state == "waiting_credentials"))
    )
    for report_id in ids:
        resume(report_id, actor)
    return len(ids)


def sweep(limit: int = 500) -> int:
    """Re-enqueue every active report that nobody drives and that is due: a lost job only delays a report.

    Stale means: its lease expired (the worker died), or it has no lease, is due, and nothing touched it for
    SWEEP_GRACE_SECONDS (its job was lost with Redis, or never enqueued). Enqueueing touches the row, so the
    next sweep leaves it alone for another grace period.
    """
    now = utcnow()
    grace = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    ids = list(
        db.session.scalars(
            select(ExternalReport.id)
            .where(
                ExternalReport.state.in_(ACTIVE_STATES),
                or_(ExternalReport.next_attempt_at.is_(None), ExternalReport.next_attempt_at <= now),
                or_(
                    and_(ExternalReport.lease_owner.is_not(None), ExternalReport.lease_expires_at < now),
                    and_(ExternalReport.lease_owner.is_(None), ExternalReport.updated_at < grace),
                ),
            )
            .order_by(ExternalReport.id)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(
            update(ExternalReport)
            .where(
                ExternalReport.id.in_(ids),
                or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
            )
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
        )
    db.session.commit()
    for report_id in ids:
        tasks.enqueue(JOB, report_id)
    retract_abandoned()
    return len(ids)


def retract_abandoned() -> list[int]:
    """Retract failed reports left open at NCMEC: nobody will finish them, and an open report is not a report.

    Their case shows "NCMEC report required" again, so a person files the content anew.
    """
    cutoff = utcnow() - timedelta(hours=current_app.config["REPORT_ABANDON_HOURS"])
    ids = list(
        db.session.scalars(
            select(ExternalReport.id).where(
                ExternalReport.state == "failed",
                ExternalReport.ncmec_report_id.is_not(None),
                ExternalReport.updated_at < cutoff,
            )
        )
    )
    db.session.commit()
    done = []
    for report_id in ids:
        try:
            retract(report_id, reason="failed and left open: retracted before NCMEC expires it")
            done.append(report_id)
        except filing.ReportingError:
            log.exception("report %s: could not retract the abandoned report", report_id)
    return done


def retract(report_id: int, actor=None, reason: str = "") -> str:
    """Cancel a report that is not finished: retract it at NCMEC if it was opened, and free the content.

    Refused for a finished report (the law: it cannot be withdrawn) and while a worker holds the report.
    """
    owner = new_owner()
    report = db.session.get(ExternalReport, report_id)
    if report is None:
        raise filing.ReportingError("no such report")
    if report.state == "finished":
        raise filing.ReportingError("a finished report cannot be withdrawn")
    now = utcnow()
    taken = db.session.execute(
        update(ExternalReport)
        .where(
            ExternalReport.id == report_id,
            ExternalReport.state != "finished",
            or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=_lease_seconds()))
    ).rowcount
    db.session.commit()
    if taken != 1:
        raise filing.ReportingError("the report is being filed right now; try again in a minute")
    report = _fresh(report_id)
    ncmec_id, agency = report.ncmec_report_id, report.agency
    db.session.commit()
    try:
        if ncmec_id:
            client = agencies.client_for(
                agency,
                connect_timeout=current_app.config["NCMEC_CONNECT_TIMEOUT"],
                read_timeout=current_app.config["NCMEC_READ_TIMEOUT"],
            )
            try:
                client.retract(ncmec_id)
            except ReportStateError as e:
                if e.already_finished:
                    # NCMEC finished it (an earlier finish whose answer we lost): it stands.
                    _release(report_id, owner, state="finished", finished_at=utcnow())
                    raise filing.ReportingError("NCMEC had already finished this report; it stands") from e
                if not (e.already_retracted or e.report_missing):
                    raise
    except (CyberTiplineError, CredentialsError) as e:
        _release(report_id, owner)
        raise filing.ReportingError(f"NCMEC did not accept the retraction: {e}") from e
    _release(report_id, owner, state="retracted", live=False, error_kind="", last_error=reason[:2000])
    report = _fresh(report_id)
    if report.case.status == "violation":
        report.case.ncmec_report_required = True  # the content is no longer reported: ask again
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
    db.session.commit()
    return "retracted"
