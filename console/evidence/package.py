"""The law-enforcement package of a report, and the record of every access to preserved material.

A package is a zip: `manifest.json` (ids, times, the reason and who asked, each item's SHA-256, size and kind,
and whether its bytes still matched that hash when they were packed), the report XML and fileDetails XML as
sent, NCMEC's replies as received, the snapshots, and the files sent under `files/`; and the package's own
files, listed in the manifest with their hashes too: `summary.html` (what an officer opens without tools: the
CyberTip, what was sent, when and by whom, the files and their hashes, the custody timeline), `custody.json`
(every step of the chain of custody, custody.py) and `proofs.json` (each step's inclusion proof against one
signed checkpoint of the audit log). `manifest.sig` is the console's signature over the manifest's SHA-256:
with the public key alone, `flask evidence verify-package` (packagecheck.py) checks the whole package
offline. An admin gets one from the evidence page, giving a reason; an operator with
`flask evidence export REPORT_ID --reason …`.

Every access is an audit event in the tamper-evident audit log — who, when, why: `evidence_viewed` for the
record page, `evidence_exported` for a package (with the manifest's SHA-256, so a recipient can check that the
package they hold is the one that left). The event is committed before the first byte leaves.

The zip is assembled in an anonymous temporary file in the evidence store's scratch folder (0700), never in
a shared temporary folder: it holds the material itself. The export's own event is recorded after the zip is
made, so it is the one step a package cannot prove; the next package (or `flask audit prove`) does.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO

from flask import current_app
from sqlalchemy import select

from console import audit
from console.evidence import custody, signer, store
from console.evidence.models import EvidenceRecord
from console.evidence.retention import holds_covering
from console.extensions import db
from console.timeutil import utcnow

CHUNK = 1024 * 1024
FORMAT = "evidence-package/1"


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
    chain = custody.gather(record)
    out = tempfile.TemporaryFile(dir=store.scratch())
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
            own = _own_files(record, report, listed, chain, now, reason, _who(actor, actor_label))
            for name, data in own.items():
                zf.writestr(zipfile.ZipInfo(name, date_time=_zip_time(now)), data, zipfile.ZIP_DEFLATED)
            key = signer.current()
            manifest = {
                "format": FORMAT,
                "package": {
                    "created_at": now.isoformat(),
                    "created_by": _who(actor, actor_label),
                    "reason": reason,
                    "how_to_check": "flask evidence verify-package FILE --public-key KEY checks everything; "
                    "by hand: sha256sum of each file in this zip equals its sha256 below, manifest.sig is "
                    "the console's Ed25519 signature (a signed note) over this file's SHA-256",
                    "public_key": key.verifier_key(),
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
                "custody": {
                    "steps": len(chain.steps),
                    "proven": len(chain.proofs),
                    "checkpoint_tree_size": chain.tree_size,
                    "unproven": chain.unproven,
                },
                "items": listed,
                "package_files": [
                    {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                    for name, data in own.items()
                ],
            }
            manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
            manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
            zf.writestr(
                zipfile.ZipInfo("manifest.json", date_time=_zip_time(now)),
                manifest_bytes,
                zipfile.ZIP_DEFLATED,
            )
            zf.writestr(
                zipfile.ZipInfo("manifest.sig", date_time=_zip_time(now)),
                custody.sign_manifest(manifest_sha256),
                zipfile.ZIP_DEFLATED,
            )
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


def _own_files(record, report, listed, chain, now, reason: str, made_by: str) -> dict[str, bytes]:
    """The package's own files: the summary a person reads, the custody steps, the proofs."""
    key = signer.current()
    custody_doc = {
        "note": "Every step of the chain of custody, from the console's audit log. `event` is the step's "
        "bytes in the log; `proof` indexes proofs.json, whose inclusion proof shows the log holds them.",
        "steps": chain.steps,
        "unproven": chain.unproven,
    }
    proofs_doc = {
        "note": "Inclusion proofs (RFC 9162) against one checkpoint signed by the console's key "
        "(audit-log-public-key.pem; check it against the key the operator publishes).",
        "checkpoint": chain.checkpoint,
        "tree_size": chain.tree_size,
        "proofs": chain.proofs,
    }
    summary = (
        current_app.jinja_env.get_template("evidence/package_summary.html")
        .render(
            record=record,
            report=report,
            items=listed,
            files=[i for i in listed if i["kind"] == "file"],
            sent={f.position + 1: f for f in report.files},
            steps=chain.steps,
            unproven=chain.unproven,
            tree_size=chain.tree_size,
            now=now,
            reason=reason,
            made_by=made_by,
            verifier_key=key.verifier_key(),
        )
        .encode()
    )
    return {
        "summary.html": summary,
        "custody.json": _json(custody_doc),
        "proofs.json": _json(proofs_doc),
        "audit-log-public-key.pem": key.public_pem().encode(),
    }


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def _zip_time(moment) -> tuple:
    moment = moment or utcnow()
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
