"""Filing a report with the CyberTipline: a resumable, forward-only state machine persisted in the database.

    queued ─submit→ submitted ─upload+fileinfo per file→ files_uploaded ─finish→ finished
       └─ submit_unknown (timeout after sending; retried)      failed / waiting_credentials (parked) → resume

Rules that make "exactly one finished report per content" hold when jobs run twice, workers die or NCMEC
misbehaves:
- A worker drives a report only while it holds the row's lease (console/reporting/lease.py: a compare-and-set
  UPDATE checked by rowcount), and renews it before every call; a worker that lost its lease stops before
  the next call.
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

The filing job files and nothing else: what a finished report sets going (its evidence preserved, its hashes
banked, the platform asked to preserve the account) is promised by rows in the finish's transaction and done
by jobs of their own after its commit (follow_ups.py).

Why this module is long (about 440 lines): the state machine and every way out of it (retry, park, give the
lease back) are one reading; split, the exits would sit apart from the steps that raise them.

Beside it: lease.py (who may drive a report), service.py (what people do to reports: file one, Retry,
Retract), sweep.py (what no worker drives is enqueued again), follow_ups.py (what a finish sets going),
jobs/reports.py (the RQ job that calls `drive`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from console import audit, tasks
from console.cases.models import Case
from console.evidence import preservation
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile
from console.ncmec import (
    CyberTiplineClient,
    CyberTiplineError,
    DataError,
    NeedsAdminError,
    ReportStateError,
    RetryableError,
    UnknownCodeError,
)
from console.ncmec.errors import ChecksumMismatchError, IndeterminateError
from console.reporting import agencies, documents, filing, follow_ups, lease, platform
from console.reporting.credentials import CredentialsError
from console.reporting.models import Agency, ExternalReport, ReportFile
from console.reporting.signals import report_finished
from console.timeutil import utcnow

log = logging.getLogger(__name__)

JOB = "jobs.reports.file_report"


def job(report_id: int) -> tasks.Job:
    """The report's filing job, under a fixed id: the sweep can tell a job still waiting in the queue from
    one lost with Redis, and enqueues only the lost (console/reporting/sweep.py)."""
    return tasks.Job(JOB, (report_id,), job_id=f"report-{report_id}")

# The evidence's follow-up (console/evidence/preservation.py, after the finish's commit): jobs/evidence.py.
PRESERVE_JOB = "jobs.evidence.preserve"


def client_for(agency: Agency) -> CyberTiplineClient:
    """A client with the filing timeouts (Test connection uses shorter ones: a person waits for it)."""
    cfg = current_app.config
    return agencies.client_for(
        agency, connect_timeout=cfg["NCMEC_CONNECT_TIMEOUT"], read_timeout=cfg["NCMEC_READ_TIMEOUT"]
    )


def fresh(report_id: int) -> ExternalReport:
    """The report as committed now: what another worker or person wrote meanwhile, not our memory of it."""
    db.session.expire_all()
    return db.session.get(ExternalReport, report_id)


def _worker_event(action: str, report_id: int, case_id: int, **details) -> None:
    audit.record(action, "external_report", report_id, actor_label="worker", case_id=case_id, **details)


def drive(
    report_id: int, owner: str | None = None, client=None, *, enqueue_follow_ups: bool = True
) -> str | None:
    """Take the report as far as it can go now. Returns its state, or None if another worker holds it.

    Once finished, the finish's follow-ups are enqueued (their rows committed with the finish);
    enqueue_follow_ups=False is the warm-up's, whose transaction is rolled back.

    The row is read once, in the claim's own transaction; from then on the worker knows the row because
    nobody else may write it while the lease is held (every write of ours checks the lease by rowcount, and
    an operator's action takes the lease first), so it keeps its copy in step with what it commits instead of
    reading the row again before every step.
    """
    owner = owner or lease.new_owner()
    if not lease.claim(report_id, owner, commit=False):
        return None
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        try:
            report, xml = _load_claimed(report_id, owner)
            client = client or client_for(report.agency)
        finally:
            db.session.commit()  # the claim (and the document about to be submitted): durable together
        if report.ncmec_report_id is None and not platform.is_prepared(report.payload):
            prepared = platform.prepare(report)  # what the platform adds; written with the document (_submit)
            if isinstance(prepared, platform.Wait):
                return _wait_for_platform(report_id, owner, prepared)
            set_committed_value(report, "payload", prepared)
        then: list[tasks.Job] = []
        while report.state != "finished":
            if report.ncmec_report_id is None:
                _submit(report, client, owner, xml)
                xml = None
                continue
            pending = next((f for f in report.files if f.ncmec_file_id is None or not f.fileinfo_sent), None)
            if pending is not None:
                _send_file(report, pending, client, owner)
                continue
            then = _finish(report, client, owner)
        session.expire_on_commit = expire_on_commit
        lease.forget(owner)  # the finish gave the lease back in its own transaction
        if enqueue_follow_ups:  # one round trip; a job lost here is pending on its row: the sweep enqueues it
            tasks.enqueue_many(then, follow_ups=True)
        return "finished"
    except lease.LeaseLost:
        db.session.rollback()
        lease.forget(owner)
        log.warning("report %s: lease lost, another worker continues", report_id)
        return None
    except (*lease.DATABASE_LOST, SystemExit, KeyboardInterrupt) as e:
        # The database went away (not the report's fault: never parked) or a cold shutdown: the lease back now
        # if the database lets us, else it expires; the sweep hands the report out again either way.
        log.warning(
            "report %s: stopped (%s); lease given back: %s",
            report_id,
            type(e).__name__,
            lease.let_go(report_id, owner),
        )
        if not isinstance(e, Exception):
            raise
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
    finally:
        session.expire_on_commit = expire_on_commit


def _load_claimed(report_id: int, owner: str) -> tuple[ExternalReport, bytes | None]:
    """In the claim's transaction: the report with its files and agency, and (when it is still to be
    submitted) its document, written to the row as the claim commits — what is sent is on record before it is
    sent, without a transaction of its own."""
    db.session.expire_all()
    report = db.session.scalars(
        select(ExternalReport)
        .where(ExternalReport.id == report_id)
        .options(
            joinedload(ExternalReport.agency),
            # What the platform step, the uploads and the finish read (the case, its user, the rule, each
            # file's media row): in these two statements.
            selectinload(ExternalReport.files).joinedload(ReportFile.media),
            joinedload(ExternalReport.case).joinedload(Case.reported_user),
            joinedload(ExternalReport.rule),
        )
    ).one()
    if report.ncmec_report_id is not None or not platform.is_prepared(report.payload):
        return report, None
    xml = documents.report_document(report)
    lease.update_owned(report_id, owner, report_xml=xml.decode())
    set_committed_value(report, "report_xml", xml.decode())
    return report, xml


def _mirror(row, **values) -> None:
    """Keep our copy of a row we hold the lease of in step with what we just wrote to it."""
    for key, value in values.items():
        set_committed_value(row, key, value)


def _attempts(report_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(ExternalReport.attempts).where(ExternalReport.id == report_id)) or 0


def _submit(report: ExternalReport, client, owner: str, xml: bytes | None = None) -> None:
    report_id = report.id
    if xml is None:  # just prepared, or filed anew after a start-over: written before it is sent
        xml = documents.report_document(report)
        lease.renew(report_id, owner, report_xml=xml.decode(), payload=report.payload)
    else:
        lease.renew(report_id, owner)  # just claimed: a no-op unless the lease is short
    try:
        ncmec_id = client.submit(xml)
    except IndeterminateError:
        # The report may have been opened; it has no id we know of and will never be finished.
        lease.renew(report_id, owner, state="submit_unknown")
        raise
    # Once a report id is stored, submit is never called again for this row.
    values = dict(
        ncmec_report_id=ncmec_id,
        state="submitted",
        submitted_at=utcnow(),
        last_error="",
        error_kind="",
        attempts=0,
    )
    lease.update_owned(report_id, owner, ExternalReport.ncmec_report_id.is_(None), **values)
    _worker_event("report_submitted", report_id, report.case_id, ncmec_report_id=ncmec_id)
    db.session.commit()
    _mirror(report, **values)


def _send_file(report: ExternalReport, f: ReportFile, client, owner: str) -> None:
    report_id, ncmec_id = report.id, report.ncmec_report_id
    if f.ncmec_file_id is None:
        if f.upload_started_at is not None:
            # An earlier upload of this file was sent and never answered (or its worker died): the open
            # report may hold a copy we cannot describe. Never finish that report.
            _start_over(report_id, owner, ncmec_id, "an upload's outcome was unknown", client)
            return
        # A case's file, or one the console wrote when the report was created (a chat's transcript).
        stored = f if f.storage_key else db.session.get(MediaFile, f.media_id)
        path, name = storage.path_for(stored), f.original_name
        lease.renew(report_id, owner)
        _record_file(report, f, owner, upload_started_at=utcnow())  # durable before the call
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
            _record_file(report, f, owner, upload_started_at=None)
            raise
        _record_file(
            report,
            f,
            owner,
            ncmec_file_id=uploaded.file_id,
            ncmec_md5=uploaded.md5,
            upload_started_at=None,
        )
        return
    xml = documents.file_document(report, f)
    lease.renew(report_id, owner)
    try:
        client.fileinfo(xml)
    except ReportStateError as e:
        if not e.file_missing:
            raise
        # NCMEC does not know the file (it was lost on their side): upload it again.
        _record_file(report, f, owner, ncmec_file_id=None, ncmec_md5=None, fileinfo_sent=False)
        return
    _record_file(report, f, owner, fileinfo_sent=True, fileinfo_xml=xml.decode())


def _record_file(report: ExternalReport, f: ReportFile, owner: str, **values) -> None:
    report_id = report.id
    holds = select(ExternalReport.id).where(
        ExternalReport.id == report_id, ExternalReport.lease_owner == owner
    )
    changed = db.session.execute(
        update(ReportFile).where(ReportFile.id == f.id, ReportFile.report_id.in_(holds)).values(**values)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise lease.LeaseLost(report_id)
    # Our copy of the files is the row's (we hold the lease): no need to count them in the database.
    _mirror(f, **values)
    if all(g.ncmec_file_id is not None and g.fileinfo_sent for g in report.files):
        lease.renew(report_id, owner, attempts=0, state="files_uploaded")
        _mirror(report, attempts=0, state="files_uploaded")
    else:
        db.session.commit()


def _finish(report: ExternalReport, client, owner: str) -> list[tasks.Job]:
    """/finish, then one transaction: the row finished and its lease given back, the event, the evidence's
    promise, and a row per follow-up. Returns the follow-ups' jobs, for after the commit (none when the
    report was filed anew)."""
    report_id, ncmec_id, case_id = report.id, report.ncmec_report_id, report.case_id
    lease.renew(report_id, owner)
    try:
        reply = preservation.finish_reply(client.finish(ncmec_id))
    except ReportStateError as e:
        if not e.already_finished:
            if e.report_missing or e.already_retracted:
                _start_over(report_id, owner, ncmec_id, str(e), client)
                return []
            raise
        reply = preservation.finish_reply(None, already_finished=True)
    now = utcnow()
    # The lease is given back in the same transaction: nobody claims a finished report.
    lease.update_owned(
        report_id,
        owner,
        state="finished",
        finished_at=now,
        updated_at=now,
        last_error="",
        error_kind="",
        next_attempt_at=None,
        lease_owner=None,
        lease_expires_at=None,
        attempts=0,
    )
    _worker_event("report_finished", report_id, case_id, ncmec_report_id=ncmec_id)
    # The REPORT Act's preservation, promised in this same transaction (console/evidence/preservation.py:
    # the record, pending, with /finish's reply); it never raises, so it can neither stop nor undo the finish.
    # The copying is its own job, after the commit.
    preservation.note_finished(report_id, now, reply)
    # What others do about a finished report (the hash bank banks its hashes, the platform is asked to
    # preserve the account's data): receivers hand back their jobs and touch nothing here.
    answers = report_finished.send(report_id, rule_id=report.rule_id)
    then = follow_ups.promise(
        report_id,
        [tasks.Job(PRESERVE_JOB, (report_id,)), *(job for _receiver, jobs in answers for job in jobs or ())],
        now,
    )
    db.session.commit()
    _mirror(report, state="finished", finished_at=now, lease_owner=None, lease_expires_at=None, attempts=0)
    return then


def _start_over(report_id: int, owner: str, old_id: str, reason: str, client=None) -> None:
    """Abandon the open report ``old_id`` and file the content again from the start, on a new report.

    Used when NCMEC no longer has the report (expired, retracted) and when it may hold a file copy we did not
    mean (an upload's outcome unknown). The abandoned report is never finished; it is retracted as a courtesy
    (NCMEC would expire it anyway), after our own records no longer point at it.
    """
    report = fresh(report_id)
    if report.lease_owner != owner:
        raise lease.LeaseLost(report_id)
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
    _worker_event(
        "report_restarted", report_id, report.case_id, old_ncmec_report_id=old_id, reason=reason[:500]
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
    lease.release(report_id, owner, next_attempt_at=due, last_error=str(error)[:2000], error_kind="retry")
    try:
        tasks.task_queue().enqueue_at(due, JOB, report_id)
    except Exception:  # Redis down: the sweep re-enqueues it
        log.exception("report %s: could not schedule the retry", report_id)
    state = db.session.scalar(select(ExternalReport.state).where(ExternalReport.id == report_id))
    db.session.commit()
    return state


def _wait_for_platform(report_id: int, owner: str, wait: platform.Wait) -> str:
    """The platform has not answered yet: ask again in a while (a wait is not a failed attempt)."""
    due, reason = utcnow() + timedelta(seconds=wait.seconds), f"Waiting for the platform: {wait.reason}"
    lease.release(
        report_id, owner, next_attempt_at=due, attempts=ExternalReport.attempts - 1, last_error=reason[:2000]
    )
    try:
        tasks.task_queue().enqueue_at(due, JOB, report_id)
    except Exception:  # Redis down: the sweep re-enqueues it
        log.exception("report %s: could not schedule the next question to the platform", report_id)
    return "queued"


def _park(report_id: int, owner: str, state: str, kind: str, error: Exception) -> None:
    db.session.rollback()
    message = str(error) or error.__class__.__name__
    lease.release(report_id, owner, state=state, error_kind=kind, last_error=message[:2000])
    case_id = db.session.scalar(select(ExternalReport.case_id).where(ExternalReport.id == report_id))
    _worker_event(f"report_{state}", report_id, case_id, reason=message[:500])
    db.session.commit()
