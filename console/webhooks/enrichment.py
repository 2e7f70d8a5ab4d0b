"""Before a report's document is frozen: ask the platform what it knows, and wait for the decision's actions.

The receiver of reporting's `report_freezing` (console/reporting/platform.py decides how long to wait):
- an account action of the case (disable, suspend) not yet acknowledged by the platform: not ready — the
  CyberTip should say the account was disabled, and it usually is within seconds;
- a reporting rule that names an enrichment endpoint: the platform is asked, signed like every event
  (`webhook-id` stays the same for every ask about one report), for what it knows about the reported user and
  the files: IP events, emails, phones, the person, the account's creation, device ids, associated
  accounts, an estimated location, each file's upload time, IP and device. The answer is checked by the
  API's own field rules (console/api/platform_details.py): a bad answer is an error naming the field, kept
  out of the report, and asked again like no answer at all. Each ask is an attempt on one
  `enrichment.request` event, shown with the deliveries.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from console.api import platform_details
from console.api.fields import moment, string, unknown_key
from console.extensions import db
from console.reporting.models import ExternalReport, ReportingRule
from console.reporting.signals import PlatformAnswer
from console.timeutil import utcnow
from console.webhooks import delivery, endpoints, service
from console.webhooks.models import (
    ENRICHMENT_REQUEST,
    RESPONSE_EXCERPT_MAX,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)

# What the platform may say of the account: every detail the API accepts about a reported user, and when the
# account was created (NCMEC has no element for it: it is said in words).
ACCOUNT_FIELDS = platform_details.USER_DETAIL_FIELDS | {"created_at"}
MAX_ITEMS = 50
ANSWER_MAX_BYTES = 256 * 1024


class BadAnswer(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5]))


def on_report_freezing(report_id: int, *, payload: dict) -> PlatformAnswer | None:
    report = db.session.get(ExternalReport, report_id)
    rule = db.session.get(ReportingRule, report.rule_id) if report and report.rule_id else None
    pending = db.session.scalars(
        select(WebhookEvent.type)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookEvent.endpoint_id)
        .where(
            WebhookEvent.case_id == report.case_id,
            WebhookEvent.type.in_(("account.disable", "account.suspend")),
            WebhookEvent.state == "pending",
            WebhookEndpoint.enabled.is_(True),
        )
    ).all()
    endpoint_id = rule.enrichment_endpoint_id if rule else None
    db.session.commit()
    notes, retry, supplement = [], bool(pending), {}
    if pending:
        notes.append(
            "The platform had not acknowledged the account action(s) yet: " + ", ".join(pending) + "."
        )
    if endpoint_id is not None:
        try:
            supplement = ask(endpoint_id, report_id, payload)
        except BadAnswer as e:
            retry = True
            notes.append(f"The platform's enrichment answer was refused (nothing of it is sent): {e}")
        except (OSError, ValueError) as e:
            retry = True
            notes.append(f"The platform's enrichment endpoint did not answer: {e}")
    if not (endpoint_id or pending):
        return None
    return PlatformAnswer(supplement=supplement, retry=retry, note=" ".join(notes))


def _request_event(endpoint_id: int, report_id: int, payload: dict) -> WebhookEvent:
    """The report's one enrichment.request event (its webhook-id the same on every ask), made on the first."""
    event = db.session.scalar(
        select(WebhookEvent).where(
            WebhookEvent.report_id == report_id, WebhookEvent.type == ENRICHMENT_REQUEST
        )
    )
    if event is not None:
        return event
    user = payload.get("reported_user") or {}
    return service.add_event(
        ENRICHMENT_REQUEST,
        endpoint_id,
        {
            "case": {"id": payload.get("case_id")},
            "content": {"id": payload.get("content_id") or "", "url": payload.get("content_url") or ""},
            "account": {"platform_id": user.get("platform_id") or ""},
            "files": [{"sha256": s} for s in _file_hashes(report_id)],
            "wanted": sorted(ACCOUNT_FIELDS),
        },
        state="awaiting",  # asked by the filing worker itself, never by the delivery job or the sweep
        case_id=payload.get("case_id"),
        report_id=report_id,
    )


def _file_hashes(report_id: int) -> list[str]:
    from console.reporting.models import ReportFile

    return list(
        db.session.scalars(
            select(ReportFile.sha256).where(ReportFile.report_id == report_id).order_by(ReportFile.position)
        )
    )


def ask(endpoint_id: int, report_id: int, payload: dict) -> dict:
    """Ask once; the checked answer as the payload's "platform" supplement. Raises BadAnswer or OSError."""
    event = _request_event(endpoint_id, report_id, payload)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    now = utcnow()
    secrets = endpoints.signing_secrets(endpoint, now)
    allowed = endpoints.allowed_hosts()
    attempt = WebhookAttempt(event_id=event.id, started_at=now, worker="enrichment", error="no answer yet")
    db.session.add(attempt)
    event.attempts += 1
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    message_id, url, event_id, attempt_id = event.message_id, endpoint.url, event.id, attempt.id
    problem = endpoints.endpoint_url_problem(url, allowed) or ("" if secrets else "no signing secret")
    db.session.commit()  # the ask is on record before it is made; nothing held across the call
    if problem:
        outcome = delivery.Outcome(None, problem, "", 0.0)
    else:
        outcome = delivery.post(url, message_id, body, secrets, now, allowed, limit=ANSWER_MAX_BYTES)
    answer, error = None, outcome.error
    if not error:
        try:
            answer = parse(json.loads(outcome.excerpt or "null"))
        except json.JSONDecodeError:
            error = "the answer is not JSON"
        except BadAnswer as e:
            error = f"refused: {e}"
    db.session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == attempt_id)
        .values(
            status_code=outcome.status,
            error=error[:500],
            response_excerpt=outcome.excerpt[:RESPONSE_EXCERPT_MAX],
            duration_ms=outcome.duration_ms,
        )
    )
    values: dict[str, Any] = {
        "updated_at": utcnow(),
        "last_status": outcome.status,
        "last_error": error[:500],
    }
    if answer is not None:
        values.update(state="delivered", delivered_at=utcnow())
    db.session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(**values))
    db.session.commit()
    if answer is not None:
        return answer
    if error.startswith("refused: "):
        raise BadAnswer({"answer": error.removeprefix("refused: ")})
    raise OSError(error or "no answer")


def parse(value: Any) -> dict:
    """The platform's answer, checked field by field by the rules the API checks a posted case with
    (console/api/platform_details.py); BadAnswer names every bad field.

    Returns the payload's "platform" supplement in the payload's own shapes: {"reported_user": {"ip_events",
    "details", "created_at"}, "files": {sha256: a file's details}}.
    """
    errors: dict[str, str] = {}
    if not isinstance(value, dict):
        raise BadAnswer({"answer": "expected an object {account, files}"})
    for key in value:
        if key not in ("account", "files"):
            errors[unknown_key(key)] = "unknown field"
    account = value.get("account") or {}
    if not isinstance(account, dict):
        errors["account"] = "expected an object"
        account = {}
    for key in account:
        if key not in ACCOUNT_FIELDS:
            errors[f"account.{unknown_key(key)}"] = "unknown field"
    events, user_details = platform_details.parse_user_details(
        {k: v for k, v in account.items() if k != "created_at"}, errors, path="account"
    )
    created = moment(account.get("created_at"), "account.created_at", errors)
    files: dict[str, dict] = {}
    listed = value.get("files")
    if listed is not None and (not isinstance(listed, list) or len(listed) > MAX_ITEMS):
        errors["files"] = f"expected a list of at most {MAX_ITEMS}"
        listed = []
    for i, item in enumerate(listed or []):
        path = f"files[{i}]"
        if not isinstance(item, dict):
            errors[path] = "expected an object {sha256, uploaded_at, upload_ip, …}"
            continue
        sha = string(item, "sha256", errors, required=True, max_len=64, path=f"{path}.sha256").lower()
        if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            errors[f"{path}.sha256"] = "must be a SHA-256 in hex"
        kept = platform_details.parse_file_details(
            {k: v for k, v in item.items() if k != "sha256"}, errors, path
        )
        if sha and kept:
            files[sha] = kept
    if errors:
        raise BadAnswer(errors)
    created_at = created.isoformat() if created else ""
    user = {"ip_events": events, "details": user_details, "created_at": created_at}
    return {"reported_user": {k: v for k, v in user.items() if v}, "files": files}
