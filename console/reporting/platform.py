"""What the platform adds to a report just before its document is frozen: the account's status, enrichment.

The payload is frozen when the report is created (filing.build_payload), except for what only the platform
knows and may tell us a little later. Before the worker writes the document it will submit (the pipeline's
first step), `prepare`:
- reads the account status the platform acknowledged (a delivered account action, recorded on the reported
  user): the CyberTip then carries accountPermanentlyDisabled / accountTemporarilyDisabled with the date;
- sends `report_freezing` (console/reporting/signals.py): whoever knows the platform (console/webhooks) asks
  it what it knows about the user and the files (enrichment), checked by the API's field rules, and says
  whether an account action of the decision is still unacknowledged.
A platform that has not answered is asked again every PLATFORM_RETRY_SECONDS, for at most
PLATFORM_WAIT_SECONDS from the report's creation (the filing clock matters more); then the report is filed
with what we have and its page says what is missing and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from console.cases.models import Case, ReportedUser
from console.extensions import db
from console.reporting.models import ExternalReport
from console.reporting.signals import PlatformAnswer, report_freezing
from console.timeutil import utcnow


def account_status(user: ReportedUser | None) -> dict:
    """{"kind": "permanent" | "temporary", "at": iso} when the platform acknowledged it, else {}."""
    if user is None or user.account_status not in ("permanent", "temporary"):
        return {}
    at = user.account_status_at
    return {"kind": user.account_status, "at": at.isoformat() if at else ""}


@dataclass(frozen=True)
class Wait:
    """Not ready: ask again in `seconds`; `reason` in words, for the report's page."""

    seconds: float
    reason: str


def prepare(report: ExternalReport) -> dict | Wait:
    """The payload to freeze (not written: the caller writes it with the document), or how long to wait."""
    payload = dict(report.payload)
    case = db.session.get(Case, report.case_id)
    status = account_status(case.reported_user if case else None)
    db.session.commit()  # nothing held while the platform is asked
    answers: list[PlatformAnswer] = [
        answer for _receiver, answer in report_freezing.send(report.id, payload=payload) if answer is not None
    ]
    cfg = current_app.config
    waited = (utcnow() - report.created_at).total_seconds()
    if any(a.retry for a in answers) and waited < cfg["PLATFORM_WAIT_SECONDS"]:
        seconds = max(0.0, min(cfg["PLATFORM_RETRY_SECONDS"], cfg["PLATFORM_WAIT_SECONDS"] - waited))
        return Wait(seconds, " ".join(a.note for a in answers if a.note) or "the platform has not answered")
    if any(a.retry for a in answers):
        # The answer may have come meanwhile (an account action acknowledged while we asked).
        case = db.session.get(Case, report.case_id)
        status = account_status(case.reported_user if case else None)
        db.session.commit()
    supplement: dict = {}
    for answer in answers:
        supplement.update(answer.supplement)
    notes = [a.note for a in answers if a.note]
    if any(a.retry for a in answers):
        minutes = cfg["PLATFORM_WAIT_SECONDS"] / 60
        notes.insert(0, f"Filed without waiting longer than {minutes:g} min for the platform.")
    user = dict(payload.get("reported_user") or {})
    if status:
        user["account_status"] = status
    payload["reported_user"] = user
    payload["platform"] = {**supplement, "notes": notes}
    payload["frozen_at"] = utcnow().isoformat()
    return payload


def is_prepared(payload: dict) -> bool:
    return bool(payload.get("frozen_at"))
