"""The law-enforcement package of a report, and the record of every access to preserved material.

A package is a zip: `manifest.json` (ids, times, the reason and who asked, each item's SHA-256, size and kind,
and whether its bytes still matched that hash when they were packed), the report XML and fileDetails XML as
sent, NCMEC's replies, the snapshots, and the files sent under `files/`. An admin gets one from the evidence
page, giving a reason; an operator with `flask evidence export REPORT_ID --reason …`.

Every access is an audit event in the tamper-evident audit log — who, when, why: `evidence_viewed` for the
record page, `evidence_exported` for a package (with the manifest's SHA-256, so a recipient can check that the
package they hold is the one that left). The event is committed before the first byte leaves.

The zip is assembled in an anonymous temporary file inside the evidence store's folder (0700), never in a
shared temporary folder: it holds the material itself.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select

from console import audit
from console.evidence import store
from console.evidence.models import EvidenceRecord
from console.evidence.retention import holds_covering
from console.extensions import db
from console.timeutil import utcnow

CHUNK = 1024 * 1024


class PackageError(ValueError):
    """No package can be made as asked; the message says why."""


@dataclass
class Package:
    file: IO[bytes]
    filename: str
    manifest: dict
    manifest_sha256: str


def record_of(report_id: int) -> EvidenceRecord | None:
    return db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report_id))


def record_view(record: EvidenceRecord, *, actor=None, actor_label: str = "", why: str) -> None:
    audit.record(
        "evidence_viewed",
        "evidence",
        record.id,
        actor=actor,
        actor_label=actor_label,
        case_id=record.case_id,
        report_id=record.report_id,
        reason=why,
    )
    db.session.commit()


def _who(actor, actor_label: str) -> str:
    if actor is not None:
        return f"{actor.name} <{actor.email}>"
    return actor_label or "system"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def build(report_id: int, *, reason: str, actor=None, actor_label: str = "") -> Package:
    """Pack a report's preserved evidence, record the export, and hand back the zip (positioned at 0)."""
    reason = (reason or "").strip()
    if not reason:
        raise PackageError("Say why the package is made (e.g. the request it answers).")
    if len(reason) > 2000:
        raise PackageError("The reason is too long (2,000 characters).")
    record = record_of(report_id)
    if record is None or record.state == "pending":
        raise PackageError(f"Report #{report_id} has no preserved evidence yet.")
    if not record.is_kept:
        raise PackageError(f"The evidence of report #{report_id} was purged on {record.purged_at:%Y-%m-%d}.")
    now = utcnow()
    report = record.report
    out = tempfile.TemporaryFile(dir=store.root())
    try:
        listed = []
        with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
            for item in record.items:
                info = zipfile.ZipInfo(item.name, date_time=_zip_time(item.created_at))
                # Media is compressed already; documents are not.
                info.compress_type = zipfile.ZIP_STORED if item.kind == "file" else zipfile.ZIP_DEFLATED
                digest, size, present = hashlib.sha256(), 0, True
                try:
                    with store.open_blob(item.sha256) as blob, zf.open(info, "w", force_zip64=True) as entry:
                        while chunk := blob.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            entry.write(chunk)
                except FileNotFoundError:
                    present = False
                listed.append(
                    {
                        "name": item.name,
                        "kind": item.kind,
                        "media_type": item.media_type,
                        "size": item.size,
                        "sha256": item.sha256,
                        **({"md5": item.md5} if item.md5 else {}),
                        **({"original_name": item.original_name} if item.original_name else {}),
                        "preserved_at": _iso(item.created_at),
                        "in_package": present,
                        "bytes_match_sha256": present
                        and digest.hexdigest() == item.sha256
                        and size == item.size,
                    }
                )
            manifest = {
                "package": {
                    "created_at": now.isoformat(),
                    "created_by": _who(actor, actor_label),
                    "reason": reason,
                    "how_to_check": "sha256sum of each file in this zip equals its item's sha256 below",
                },
                "report": {
                    "console_report_id": report.id,
                    "ncmec_report_id": record.ncmec_report_id,
                    "agency": report.agency.name,
                    "incident_type": report.incident_type,
                    "case_id": record.case_id,
                    "reported_user_id": record.reported_user_id,
                    "submitted_at": _iso(report.submitted_at),
                    "finished_at": _iso(record.finished_at),
                },
                "evidence": {
                    "record_id": record.id,
                    "state": record.state,
                    "preserved_at": _iso(record.preserved_at),
                    "preserve_until": _iso(record.preserve_until),
                    "seal": record.seal,
                    "problems": list(record.problems or []),
                    "legal_holds": [
                        {"reference": h.reference, "placed_at": _iso(h.placed_at), "ends_at": _iso(h.ends_at)}
                        for h in holds_covering(record, now)
                    ],
                },
                "items": listed,
            }
            manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
            zf.writestr(
                zipfile.ZipInfo("manifest.json", date_time=_zip_time(now)),
                manifest_bytes,
                zipfile.ZIP_DEFLATED,
            )
        manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        audit.record(
            "evidence_exported",
            "evidence",
            record.id,
            actor=actor,
            actor_label=actor_label,
            case_id=record.case_id,
            report_id=report.id,
            ncmec_report_id=record.ncmec_report_id,
            reason=reason,
            items=len(listed),
            manifest_sha256=manifest_sha256,
            mismatched=[i["name"] for i in listed if not i["bytes_match_sha256"]],
        )
        db.session.commit()
    except BaseException:
        out.close()
        db.session.rollback()
        raise
    out.seek(0)
    return Package(out, f"report-{report.id}-evidence.zip", manifest, manifest_sha256)


def _zip_time(moment) -> tuple:
    moment = moment or utcnow()
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
