"""Delivering one event to the platform: at least once, with the same `webhook-id` on every attempt.

The rules are the reporting pipeline's (console/reporting/pipeline.py, lease.py, sweep.py), for a simpler
protocol:
- The event row is the truth. It is written in the transaction of what caused it and its job enqueued after
  the commit; a job lost on the way (Redis restarted, a worker killed) only delays it: `sweep` enqueues every
  pending event nobody drives.
- A worker delivers an event only while it holds the row's lease, taken by a compare-and-set UPDATE checked
  by rowcount, so two workers never deliver the same event at once. The claim also writes the attempt row
  (durable before the call): a worker killed mid-call leaves an attempt "without an outcome" and a lease that
  runs out; the next worker delivers again with the same id. The receiver may see that id twice (the
  at-least-once promise; it de-duplicates), and our records say "delivered" once: only the lease holder
  writes the outcome.
- No transaction is held across the call. The call signs with the `standardwebhooks` library (two signatures
  while a secret rotates), follows no redirect, waits WEBHOOK_TIMEOUT_SECONDS, reaches only public addresses
  or hosts an admin allowed (console/urlguard.py), and keeps the first 2 KiB of the answer.
- 2xx: delivered. 410 Gone: the receiver said stop — the event is stopped and its endpoint disabled. Anything
  else (another status, a timeout, a refused connection or address): retried with exponential backoff and
  jitter until WEBHOOK_RETRY_HOURS after the event was made, then failed (Resend puts it back). An endpoint
  that has failed for WEBHOOK_DISABLE_AFTER_HOURS without one delivery is disabled; admins see a banner.
- What a delivery means beyond itself — the platform disabled an account, acknowledged a preservation request
  — is recorded in the same transaction as "delivered" (`_record_effects`).
- A backlog goes in batches: the claim takes up to WEBHOOK_BATCH due events of the job's endpoint and takes
  the others' queued jobs out (fixed job ids); each event is still its own POST, outcome and transaction. The
  batch stops at the first event not delivered, or after a third of the lease: the rest go back, never called
  (no attempt on record), to jobs of their own. A worker killed mid-batch leaves leases that run out: the
  sweep enqueues those events again.

Why this module is long (about 450 lines): the claim, the call, the outcome and the batch share one lease
protocol and one `Claimed` record; split, each part would have to re-state the others' rules.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, update
from standardwebhooks import Webhook

from console import audit, tasks, urlguard
from console.cases.models import ReportedUser
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.timeutil import utcnow
from console.webhooks import endpoints, service
from console.webhooks.models import (
    PRESERVATION_REQUEST,
    RESPONSE_EXCERPT_MAX,
    WebhookAllowedHost,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)

log = logging.getLogger(__name__)

USER_AGENT = "moderation-console-webhooks/1"
# How early a scheduled job may wake and still claim its event (RQ's scheduler keeps whole seconds).
SCHEDULER_TOLERANCE = timedelta(seconds=1.5)
ACCOUNT_STATUS = {"account.disable": "permanent", "account.suspend": "temporary", "account.restore": ""}


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Outcome:
    status: int | None
    error: str
    excerpt: str
    duration_ms: float


def sign(message_id: str, body: bytes, secrets: list[str], when) -> str:
    """The `webhook-signature` header: one signature per secret, space-separated (the library signs)."""
    return " ".join(Webhook(secret).sign(message_id, when, body) for secret in secrets)


@dataclass
class Claimed:
    """What the claim's transaction read: everything the call and the outcome need, nothing read again."""

    event_id: int
    attempt_id: int
    message_id: str
    type: str
    reported_user_id: int | None
    report_id: int | None
    payload: dict
    attempts: int
    created_at: datetime
    endpoint_id: int
    url: str
    secrets: list[str]
    allowed: set[str]
    problem: str
    failing: bool  # the endpoint's failing clock runs (a delivery stops it)


def _claim(event_id: int, owner: str) -> list[Claimed]:
    """Take the event, and the endpoint's other due events nobody holds (up to WEBHOOK_BATCH in all).

    One transaction: the compare-and-set, what the calls need (the endpoint, its secrets, the allowed hosts)
    and the attempt rows, so that every attempt is on record before its call is made. The events come in
    the order they were made, the job's own first when it is among them (it may have been delivered already
    by another worker's batch: then the others are still worth taking).
    """
    now = utcnow()
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    free = or_(WebhookEvent.lease_owner.is_(None), WebhookEvent.lease_expires_at < now)
    due = or_(
        WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now + SCHEDULER_TOLERANCE
    )
    batch = max(int(current_app.config["WEBHOOK_BATCH"]), 1)
    wanted = WebhookEvent.id == event_id
    if batch > 1:
        others = (
            select(WebhookEvent.id)
            .where(
                WebhookEvent.endpoint_id
                == select(WebhookEvent.endpoint_id).where(WebhookEvent.id == event_id).scalar_subquery(),
                WebhookEvent.state == "pending",
                WebhookEvent.id != event_id,
                free,
                due,
            )
            .order_by(WebhookEvent.id)
            .limit(batch - 1)
        )
        wanted = or_(wanted, WebhookEvent.id.in_(others))

    def endpoint_column(column):
        return select(column).where(WebhookEndpoint.id == WebhookEvent.endpoint_id).scalar_subquery()

    # The endpoint's columns and the allow-list come back with the claim itself (scalar subqueries in
    # RETURNING, on PostgreSQL and SQLite alike): one round trip, not three.
    hosts = select(func.aggregate_strings(WebhookAllowedHost.host, " ")).scalar_subquery()
    rows = db.session.execute(
        update(WebhookEvent)
        .where(wanted, WebhookEvent.state == "pending", WebhookEvent.endpoint_id.in_(enabled), free, due)
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"]),
            attempts=WebhookEvent.attempts + 1,
            updated_at=now,
        )
        .returning(
            WebhookEvent.id,
            WebhookEvent.message_id,
            WebhookEvent.type,
            WebhookEvent.reported_user_id,
            WebhookEvent.report_id,
            WebhookEvent.payload,
            WebhookEvent.attempts,
            WebhookEvent.created_at,
            WebhookEvent.endpoint_id,
            endpoint_column(WebhookEndpoint.url).label("url"),
            endpoint_column(WebhookEndpoint.secret_encrypted).label("secret_encrypted"),
            endpoint_column(WebhookEndpoint.previous_secret_encrypted).label("previous_secret_encrypted"),
            endpoint_column(WebhookEndpoint.previous_secret_until).label("previous_secret_until"),
            endpoint_column(WebhookEndpoint.failing_since).label("failing_since"),
            hosts.label("allowed_hosts"),
        )
        .execution_options(synchronize_session=False)
    ).all()
    if not rows:
        db.session.rollback()
        return []
    rows.sort(key=lambda r: (r.id != event_id, r.id))
    endpoint = rows[0]  # one endpoint: the others were chosen by the job's event's
    try:
        secrets = endpoints.signing_secrets(endpoint, now)
        allowed = {h.lower() for h in (endpoint.allowed_hosts or "").split()}
    except Exception as e:  # noqa: BLE001 - a secret we cannot decrypt is an admin's problem, retried
        secrets, allowed, problem = [], set(), f"cannot sign: {e}"
    else:
        problem = endpoints.endpoint_url_problem(endpoint.url, allowed) or (
            "" if secrets else "the endpoint has no signing secret"
        )
    attempt_ids = db.session.scalars(
        insert(WebhookAttempt).returning(WebhookAttempt.id, sort_by_parameter_order=True),
        [dict(event_id=r.id, started_at=now, worker=owner, error="no outcome recorded yet") for r in rows],
    ).all()
    claimed = [
        Claimed(
            row.id,
            attempt_id,
            row.message_id,
            row.type,
            row.reported_user_id,
            row.report_id,
            row.payload,
            row.attempts,
            _aware(row.created_at),
            row.endpoint_id,
            endpoint.url,
            secrets,
            allowed,
            problem,
            endpoint.failing_since is not None,
        )
        for row, attempt_id in zip(rows, attempt_ids, strict=True)
    ]
    db.session.commit()  # nothing held across the calls
    return claimed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def deliver(event_id: int, owner: str | None = None) -> str | None:
    """One attempt at the event, and at the endpoint's other due events while it answers well.

    Returns the event's state after it, or None when it was not this job's to deliver now. Each event is
    still one signed POST with its own webhook-id, outcome and transaction; the batch saves the claims and
    the jobs of a backlog (the others' queued jobs are taken out). It stops at the first event that is not
    delivered, or when a third of the lease is spent: the rest go back, untouched, to jobs of their own.
    """
    owner = owner or new_owner()
    batch = _claim(event_id, owner)
    if not batch:
        return None
    if len(batch) > 1:
        tasks.discard(service.delivery_job(c.event_id).job_id for c in batch if c.event_id != event_id)
    budget = current_app.config["WEBHOOK_LEASE_SECONDS"] / 3
    started = time.monotonic()
    state = own = None
    for i, claimed in enumerate(batch):
        if i and (state != "delivered" or time.monotonic() - started > budget):
            _release(batch[i:], owner)
            break
        if claimed.problem:
            outcome = Outcome(None, claimed.problem[:500], "", 0.0)
        else:
            body = json.dumps(claimed.payload, separators=(",", ":"), sort_keys=True).encode()
            outcome = post(claimed.url, claimed.message_id, body, claimed.secrets, utcnow(), claimed.allowed)
        state = _record(claimed.event_id, claimed, owner, outcome)
        if claimed.event_id == event_id:
            own = state
    return own


def _release(rest: list[Claimed], owner: str) -> None:
    """Give back events claimed but not called: no attempt was made, so none is on record; jobs again."""
    ids = [c.event_id for c in rest]
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(ids), WebhookEvent.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, attempts=WebhookEvent.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(WebhookAttempt)
        .where(WebhookAttempt.id.in_([c.attempt_id for c in rest]))
        .execution_options(synchronize_session=False)
    )
    tasks.commit_then_enqueue(service.delivery_job(i) for i in ids)


def post(
    url: str,
    message_id: str,
    body: bytes,
    secrets: list[str],
    when,
    allowed,
    limit: int = RESPONSE_EXCERPT_MAX,
) -> Outcome:
    """One signed POST: no redirect followed, WEBHOOK_TIMEOUT_SECONDS, the answer's first `limit` bytes."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": sign(message_id, body, secrets, when),
    }
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    started = time.perf_counter()
    session = _session_for(allowed)
    try:
        with session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            raw = response.raw.read(limit, decode_content=True) or b""
            excerpt = raw.decode("utf-8", "replace")
            status = response.status_code
    except requests.Timeout:
        return Outcome(None, f"no answer within {timeout:g} s", "", _ms(started))
    except requests.RequestException as e:
        return Outcome(None, f"{type(e).__name__}: {_reason(e)}"[:500], "", _ms(started))
    error = ""
    if 300 <= status < 400:
        error = (
            f"answered {status} (a redirect to {response.headers.get('location', '?')[:200]}): not followed"
        )
    elif not 200 <= status < 300:
        error = f"answered {status}"
    return Outcome(status, error, excerpt, _ms(started))


# A worker keeps its connections to the platform open between deliveries (keep-alive), one session per
# allow-list: a host taken off the list is never reached through a connection made while it was on it.
_sessions: dict[frozenset[str], requests.Session] = {}


def _session_for(allowed) -> requests.Session:
    key = frozenset(allowed)
    session = _sessions.get(key)
    if session is None:
        for old in _sessions.values():
            old.close()
        _sessions.clear()
        session = _sessions[key] = urlguard.guarded_session(key)
    return session


def _reason(error: requests.RequestException) -> str:
    """Why a call failed, in words: the guard's refusal as it said it, when it was that."""
    inner = getattr(error.args[0], "args", ()) if error.args else ()
    for arg in (*error.args, *inner):
        if isinstance(arg, urlguard.AddressRefused):
            return str(arg)
    return str(error)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _record(event_id: int, claimed: Claimed, owner: str, outcome: Outcome) -> str | None:
    """Write the outcome while we still hold the lease (compare-and-set): else another worker owns it now."""
    now = utcnow()
    cfg = current_app.config
    values = dict(
        lease_owner=None,
        lease_expires_at=None,
        updated_at=now,
        last_status=outcome.status,
        last_error=outcome.error,
    )
    job_due = None
    if outcome.status is not None and 200 <= outcome.status < 300:
        state = "delivered"
        values.update(state=state, delivered_at=now, next_attempt_at=None)
    elif outcome.status == 410:
        state = "stopped"
        values.update(state=state, next_attempt_at=None)
    elif now - claimed.created_at >= timedelta(hours=cfg["WEBHOOK_RETRY_HOURS"]):
        state = "failed"
        values.update(state=state, next_attempt_at=None)
    else:
        state = "pending"
        job_due = now + timedelta(seconds=retry_delay(claimed.attempts))
        values.update(next_attempt_at=job_due)
    changed = db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        log.warning("webhook event %s: lease lost, another worker continues", event_id)
        return None
    db.session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == claimed.attempt_id)
        .values(
            status_code=outcome.status,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
            duration_ms=outcome.duration_ms,
        )
    )
    _record_endpoint(claimed.endpoint_id, state, outcome, now, claimed.failing)
    if state == "delivered":
        _record_effects(claimed, outcome, now)
    elif state != "pending":
        # A delivery and a retry are on record in the attempts (the deliveries pages); the audit log gets,
        # in the same transaction, the ends a person may have to act on.
        audit.record(
            f"webhook_event_{state}",
            "webhook_event",
            event_id,
            actor_label="worker",
            message_id=claimed.message_id,
            status=outcome.status,
            attempts=claimed.attempts,
            error=outcome.error,
        )
    db.session.commit()
    if job_due is not None:
        try:
            tasks.task_queue().enqueue_at(job_due, service.DELIVER_JOB, event_id)
        except Exception:  # noqa: BLE001 - Redis down: the sweep enqueues it again
            log.exception("webhook event %s: could not schedule the retry", event_id)
    return state


def _record_endpoint(endpoint_id: int, state: str, outcome: Outcome, now: datetime, failing: bool) -> None:
    """A delivery clears the endpoint's failing clock; 410, or failing too long, disables it."""
    cfg = current_app.config
    if state == "delivered":
        if failing:
            db.session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(failing_since=None)
            )
        return
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    reason = ""
    if state == "stopped":
        reason = "the receiver answered 410 Gone: it asked for no more events"
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if now - endpoint.failing_since >= timedelta(hours=cfg["WEBHOOK_DISABLE_AFTER_HOURS"]):
            hours = cfg["WEBHOOK_DISABLE_AFTER_HOURS"]
            reason = f"no delivery for {hours:g} hours (last: {outcome.error[:200]})"
    if reason and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
        audit.record(
            "webhook_endpoint_disabled", "webhook_endpoint", endpoint_id, actor_label="worker", reason=reason
        )


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: between half and all of base·2^(n−1), capped."""
    cfg = current_app.config
    ceiling = min(
        cfg["WEBHOOK_RETRY_BASE_SECONDS"] * (2 ** max(attempts - 1, 0)), cfg["WEBHOOK_RETRY_MAX_SECONDS"]
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def _record_effects(event: Claimed, outcome: Outcome, now) -> None:
    """What the platform's 2xx acknowledges, recorded with "delivered" (one transaction)."""
    if event.type in ACCOUNT_STATUS and event.reported_user_id is not None:
        user = db.session.get(ReportedUser, event.reported_user_id)
        status = ACCOUNT_STATUS[event.type]
        if status == "" or user.account_status != "permanent" or status == "permanent":
            user.account_status, user.account_status_at = status, now if status else None
    if event.type == PRESERVATION_REQUEST and event.report_id is not None:
        record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == event.report_id))
        if record is not None:
            record.platform_preservation = {
                "message_id": event.message_id,
                "status": outcome.status,
                "response": outcome.excerpt[:500],
            }
            record.platform_preservation_at = now
