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
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import or_, select, update
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


def _claim(event_id: int, owner: str) -> WebhookAttempt | None:
    """Take a pending, due event of an enabled endpoint that nobody holds; write the attempt row with it."""
    now = utcnow()
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    claimed = db.session.execute(
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
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    attempt = WebhookAttempt(event_id=event_id, started_at=now, worker=owner, error="no outcome recorded yet")
    db.session.add(attempt)
    db.session.commit()
    return attempt


def deliver(event_id: int, owner: str | None = None) -> str | None:
    """One attempt at the event. Returns its state after it, or None when it was not ours to deliver now."""
    owner = owner or new_owner()
    attempt = _claim(event_id, owner)
    if attempt is None:
        return None
    attempt_id = attempt.id
    event = db.session.get(WebhookEvent, event_id)
    endpoint = event.endpoint
    now = utcnow()
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    message_id, url = event.message_id, endpoint.url
    try:
        secrets = endpoints.signing_secrets(endpoint, now)
        allowed = endpoints.allowed_hosts()
    except Exception as e:  # noqa: BLE001 - a secret we cannot decrypt is an admin's problem, retried
        secrets, allowed, setup_error = [], set(), f"cannot sign: {e}"
    else:
        setup_error = "" if secrets else "the endpoint has no signing secret"
    db.session.commit()  # nothing held across the call
    problem = setup_error or endpoints.endpoint_url_problem(url, allowed)
    if problem:
        outcome = Outcome(None, problem[:500], "", 0.0)
    else:
        outcome = post(url, message_id, body, secrets, now, allowed)
    return _record(event_id, attempt_id, owner, outcome)


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
    session = urlguard.guarded_session(allowed)
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
    finally:
        session.close()
    error = ""
    if 300 <= status < 400:
        error = (
            f"answered {status} (a redirect to {response.headers.get('location', '?')[:200]}): not followed"
        )
    elif not 200 <= status < 300:
        error = f"answered {status}"
    return Outcome(status, error, excerpt, _ms(started))


def _reason(error: requests.RequestException) -> str:
    """Why a call failed, in words: the guard's refusal as it said it, when it was that."""
    inner = getattr(error.args[0], "args", ()) if error.args else ()
    for arg in (*error.args, *inner):
        if isinstance(arg, urlguard.AddressRefused):
            return str(arg)
    return str(error)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _record(event_id: int, attempt_id: int, owner: str, outcome: Outcome) -> str | None:
    """Write the outcome while we still hold the lease: else another worker owns the event now."""
    now = utcnow()
    cfg = current_app.config
    event = db.session.get(WebhookEvent, event_id)
    if event.lease_owner != owner:
        db.session.rollback()
        log.warning("webhook event %s: lease lost, another worker continues", event_id)
        return None
    db.session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == attempt_id)
        .values(
            status_code=outcome.status,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
            duration_ms=outcome.duration_ms,
        )
    )
    endpoint = db.session.get(WebhookEndpoint, event.endpoint_id)
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
        endpoint.failing_since, endpoint.last_success_at = None, now
    elif outcome.status == 410:
        state = "stopped"
        values.update(state=state, next_attempt_at=None)
        if endpoint.enabled:
            endpoint.enabled, endpoint.disabled_at = False, now
            endpoint.disabled_reason = "the receiver answered 410 Gone: it asked for no more events"
            audit.record(
                "webhook_endpoint_disabled",
                "webhook_endpoint",
                endpoint.id,
                actor_label="worker",
                reason=endpoint.disabled_reason,
            )
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if now - event.created_at >= timedelta(hours=cfg["WEBHOOK_RETRY_HOURS"]):
            state = "failed"
            values.update(state=state, next_attempt_at=None)
        else:
            state = "pending"
            job_due = now + timedelta(seconds=retry_delay(event.attempts))
            values.update(next_attempt_at=job_due)
        if endpoint.enabled and now - endpoint.failing_since >= timedelta(
            hours=cfg["WEBHOOK_DISABLE_AFTER_HOURS"]
        ):
            endpoint.enabled, endpoint.disabled_at = False, now
            endpoint.disabled_reason = (
                f"no delivery for {cfg['WEBHOOK_DISABLE_AFTER_HOURS']:g} hours (last: {outcome.error[:200]})"
            )
            audit.record(
                "webhook_endpoint_disabled",
                "webhook_endpoint",
                endpoint.id,
                actor_label="worker",
                reason=endpoint.disabled_reason,
            )
    changed = db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        return None
    if state == "delivered":
        _record_effects(event, outcome, now)
    if state != "pending":
        audit.record(
            f"webhook_event_{state}",
            "webhook_event",
            event_id,
            actor_label="worker",
            case_id=event.case_id,
            type=event.type,
            message_id=event.message_id,
            status=outcome.status,
            attempts=event.attempts,
            error=outcome.error,
        )
    db.session.commit()
    if job_due is not None:
        try:
            tasks.task_queue().enqueue_at(job_due, service.DELIVER_JOB, event_id)
        except Exception:  # noqa: BLE001 - Redis down: the sweep enqueues it again
            log.exception("webhook event %s: could not schedule the retry", event_id)
    return state


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: between half and all of base·2^(n−1), capped."""
    cfg = current_app.config
    ceiling = min(
        cfg["WEBHOOK_RETRY_BASE_SECONDS"] * (2 ** max(attempts - 1, 0)), cfg["WEBHOOK_RETRY_MAX_SECONDS"]
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def _record_effects(event: WebhookEvent, outcome: Outcome, now) -> None:
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
