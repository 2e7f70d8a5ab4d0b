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
from sqlalchemy import func, insert, or_, select, update
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


def _claim(event_id: int, owner: str) -> Claimed | None:
    """Take a pending, due event of an enabled endpoint that nobody holds; write the attempt row with it.

    One transaction: the compare-and-set, what the call needs (the endpoint, its secrets, the allowed hosts)
    and the attempt row, so that an attempt is on record before the call is made.
    """
    now = utcnow()
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))

    def endpoint_column(column):
        return select(column).where(WebhookEndpoint.id == WebhookEvent.endpoint_id).scalar_subquery()

    # The endpoint's columns and the allow-list come back with the claim itself (scalar subqueries in
    # RETURNING, on PostgreSQL and SQLite alike): one round trip instead of three on every delivery.
    hosts = select(func.aggregate_strings(WebhookAllowedHost.host, " ")).scalar_subquery()
    row = db.session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_id,
            WebhookEvent.state == "pending",
            WebhookEvent.endpoint_id.in_(enabled),
            or_(WebhookEvent.lease_owner.is_(None), WebhookEvent.lease_expires_at < now),
            or_(
                WebhookEvent.next_attempt_at.is_(None),
                WebhookEvent.next_attempt_at <= now + SCHEDULER_TOLERANCE,
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"]),
            attempts=WebhookEvent.attempts + 1,
            updated_at=now,
        )
        .returning(
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
    ).one_or_none()
    if row is None:
        db.session.rollback()
        return None
    endpoint = row
    try:
        secrets = endpoints.signing_secrets(endpoint, now)
        allowed = {h.lower() for h in (row.allowed_hosts or "").split()}
    except Exception as e:  # noqa: BLE001 - a secret we cannot decrypt is an admin's problem, retried
        secrets, allowed, problem = [], set(), f"cannot sign: {e}"
    else:
        problem = endpoints.endpoint_url_problem(endpoint.url, allowed) or (
            "" if secrets else "the endpoint has no signing secret"
        )
    attempt_id = db.session.execute(
        insert(WebhookAttempt)
        .values(event_id=event_id, started_at=now, worker=owner, error="no outcome recorded yet")
        .returning(WebhookAttempt.id)
    ).scalar_one()
    claimed = Claimed(
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
    db.session.commit()  # nothing held across the call
    return claimed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def deliver(event_id: int, owner: str | None = None) -> str | None:
    """One attempt at the event. Returns its state after it, or None when it was not ours to deliver now."""
    owner = owner or new_owner()
    claimed = _claim(event_id, owner)
    if claimed is None:
        return None
    if claimed.problem:
        outcome = Outcome(None, claimed.problem[:500], "", 0.0)
    else:
        body = json.dumps(claimed.payload, separators=(",", ":"), sort_keys=True).encode()
        outcome = post(claimed.url, claimed.message_id, body, claimed.secrets, utcnow(), claimed.allowed)
    return _record(event_id, claimed, owner, outcome)


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
