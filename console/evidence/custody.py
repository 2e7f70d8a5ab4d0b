"""The chain of custody of a report's evidence, and the proofs that the log holds every step of it.

The custody of a report is read from the audit log, the one record of who did what: the report's own events
(created, submitted, finished…), every reveal and download of a file it sent (`media_revealed`,
`media_downloaded`: the person, the time, the page), every access to its evidence (`evidence_viewed`,
`evidence_exported`, preservation) and every legal hold placed on or lifted from it. Each step carries its
inclusion proof against one signed checkpoint (console/evidence/logstore.py), so a package proves that these
events are in the tamper-evident log as they read — with the console's public key alone
(console/evidence/packagecheck.py checks it offline). The log is sealed first, so events up to this moment
are covered; a step the log could not prove is listed with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from console.audit import AuditEvent, canonical
from console.evidence import logstore, sealer, signer
from console.evidence.models import EvidenceRecord, LegalHold
from console.extensions import db

log = logging.getLogger(__name__)

# What each step says, for people (summary.html).
ACTIONS = {
    "media_revealed": "revealed the file",
    "media_downloaded": "received the file's bytes in the browser",
    "evidence_viewed": "viewed the evidence record",
    "evidence_exported": "exported a law-enforcement package",
    "evidence_preserved": "preserved the evidence",
    "evidence_incomplete": "preserved the evidence (incomplete)",
    "evidence_purged": "purged the evidence",
    "legal_hold_placed": "placed a legal hold",
    "legal_hold_released": "released a legal hold",
}


@dataclass
class Custody:
    steps: list[dict]
    proofs: list[dict]
    checkpoint: str  # the signed note every proof is against ("" when there is none yet)
    tree_size: int
    unproven: list[dict] = field(default_factory=list)


def _events(record: EvidenceRecord) -> list[AuditEvent]:
    report = record.report
    media_ids = [str(f.media_id) for f in report.files if f.media_id is not None]
    hold_scope = [LegalHold.report_id == report.id]
    if record.reported_user_id is not None:
        hold_scope.append(LegalHold.reported_user_id == record.reported_user_id)
    hold_ids = [str(i) for i in db.session.scalars(select(LegalHold.id).where(or_(*hold_scope)))]
    about = [
        and_(AuditEvent.object_type == "external_report", AuditEvent.object_id == str(report.id)),
        and_(AuditEvent.object_type == "evidence", AuditEvent.object_id == str(record.id)),
    ]
    if media_ids:
        about.append(
            and_(
                AuditEvent.object_type == "media",
                AuditEvent.object_id.in_(media_ids),
                AuditEvent.action.in_(("media_revealed", "media_downloaded")),
            )
        )
    if hold_ids:
        about.append(and_(AuditEvent.object_type == "legal_hold", AuditEvent.object_id.in_(hold_ids)))
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(or_(*about))
            .options(joinedload(AuditEvent.actor))
            .order_by(AuditEvent.id)
        )
    )


def _who(event: AuditEvent) -> str:
    if event.actor is not None:
        return f"{event.actor.name} <{event.actor.email}>"
    return event.actor_label or "system"


def _step(event: AuditEvent, files: dict[str, str]) -> dict:
    details = dict(event.details or {})
    what = ACTIONS.get(event.action, event.action.replace("_", " "))
    if event.object_type == "media":
        what += f" {files.get(event.object_id) or details.get('file', '')}".rstrip()
    return {
        "event_id": event.id,
        "log_index": event.log_index,
        "at": event.at.isoformat(),
        "who": _who(event),
        "action": event.action,
        "what": what,
        "page": details.get("page", ""),
        "reason": details.get("reason", ""),
        # The event's bytes as the log holds them: what its proof proves (packagecheck compares them).
        "event": canonical(
            {
                "at": event.at,
                "actor_id": event.actor_id,
                "actor_label": event.actor_label,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "case_id": event.case_id,
                "details": event.details,
            }
        ).decode("ascii"),
    }


def gather(record: EvidenceRecord) -> Custody:
    """Seal the log's tail, then every custody step with its inclusion proof against the latest checkpoint."""
    try:
        sealer.seal(max_seconds=10.0)
    except Exception:
        db.session.rollback()
        log.exception("the audit log could not be sealed before a package; its newest steps go unproven")
    files = {
        str(f.media_id): f"{f.position + 1}: {f.original_name}" for f in record.report.files if f.media_id
    }
    head = logstore.latest_checkpoint()
    steps, proofs, unproven = [], [], []
    for event in _events(record):
        step = _step(event, files)
        steps.append(step)
        if head is None or event.log_index is None or event.log_index >= head.tree_size:
            step["proof"] = None
            unproven.append({"event_id": event.id, "why": "not sealed into a checkpoint yet"})
            continue
        try:
            proof = logstore.prove_inclusion(event.id, head.tree_size)
        except logstore.ProofUnavailable as e:
            step["proof"] = None
            unproven.append({"event_id": event.id, "why": str(e)})
            continue
        step["proof"] = len(proofs)
        step["event"] = proof["event"]  # the bytes the log holds, as proven
        proofs.append(proof)
    return Custody(steps, proofs, head.note if head else "", head.tree_size if head else 0, unproven)


def sign_manifest(manifest_sha256: str) -> str:
    """A signed note over the manifest's SHA-256, by the log's key: the package's own signature.

    Its body cannot be read as a checkpoint (its second line is not a number), so the one key signs two
    kinds of statement that cannot be mistaken for each other.
    """
    from console.evidence.packagecheck import manifest_note_body

    return signer.current().sign(manifest_note_body(manifest_sha256))
