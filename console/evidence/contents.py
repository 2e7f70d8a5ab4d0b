"""What a finished report's evidence holds: the items planned from the report, before they are copied.

Each planned item is bytes (a document, a reply, a snapshot) or a file to copy (a file sent, checked against
the hashes recorded when it was sent). `plan` reads the rows; it writes nothing and copies nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from console.evidence import replies as kept_replies
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.media.models import MediaFile
from console.ncmec.client import ascii_filename
from console.reporting.models import ExternalReport
from console.timeutil import utcnow


@dataclass
class Planned:
    kind: str
    name: str
    media_type: str
    data: bytes | None = None
    storage_key: str | None = None  # a file to copy: its key in the media store (media/storage.py)
    expect_sha256: str = ""
    expect_md5: str = ""
    original_name: str = ""


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def plan(report: ExternalReport, record: EvidenceRecord) -> tuple[list[Planned], list[str]]:
    planned, problems = [], []
    if report.report_xml:
        planned.append(
            Planned("report_xml", "report.xml", "application/xml", data=report.report_xml.encode())
        )
    else:
        problems.append("the report XML was not recorded")
    replies_files = []
    for f in report.files:
        n = f.position + 1
        # A case's media file, or a file the console wrote for the report (it has its own storage key).
        media = db.session.get(MediaFile, f.media_id) if f.media_id is not None else None
        source = f if getattr(f, "storage_key", None) else media
        planned.append(
            Planned(
                "file",
                f"files/{n}-{ascii_filename(f.original_name)}",
                media.mime_type if media else "application/octet-stream",
                storage_key=source.storage_key if source is not None else None,
                expect_sha256=f.sha256,
                expect_md5=f.ncmec_md5 or f.md5,
                original_name=f.original_name,
            )
        )
        if f.fileinfo_xml:
            planned.append(
                Planned(
                    "file_details_xml",
                    f"files/{n}-fileDetails.xml",
                    "application/xml",
                    data=f.fileinfo_xml.encode(),
                )
            )
        else:
            problems.append(f"file {n}: its fileDetails XML was not recorded")
        replies_files.append(
            {
                "position": n,
                "upload": {"fileId": f.ncmec_file_id, "hash": f.ncmec_md5},
                "fileinfo": {"responseCode": 0 if f.fileinfo_sent else None},
            }
        )
    reply = record.finish_reply or {}
    if reply.get("raw"):
        planned.append(
            Planned("ncmec_reply", "ncmec/finish-reply.xml", "application/xml", data=reply["raw"].encode())
        )
    abandoned = list((report.payload or {}).get("retracted_ids", []))
    received = kept_replies.of_reports([report.ncmec_report_id, *abandoned])
    for n, kept in enumerate(received, start=1):
        planned.append(
            Planned(
                "ncmec_reply",
                f"ncmec/replies/{n:03d}-{kept.endpoint}-{ascii_filename(kept.ncmec_report_id or 'none')}.xml",
                "application/xml",
                data=bytes(kept.body),
            )
        )
    replies = {
        "note": "The values NCMEC's replies carried, as the console committed them after each call. Every "
        "reply's body as received is under ncmec/replies/ (numbered in the order received; the list below "
        "says when each came), /finish's also as ncmec/finish-reply.xml.",
        "received": [
            {
                "file": f"ncmec/replies/{n:03d}-{kept.endpoint}-"
                f"{ascii_filename(kept.ncmec_report_id or 'none')}.xml",
                "endpoint": kept.endpoint,
                "ncmec_report_id": kept.ncmec_report_id,
                "http_status": kept.http_status,
                "sha256": kept.sha256,
                "received_at": _iso(kept.received_at),
            }
            for n, kept in enumerate(received, start=1)
        ],
        "submit": {"reportId": report.ncmec_report_id},
        "files": replies_files,
        "finish": {k: v for k, v in reply.items() if k != "raw"},
        "abandoned_report_ids": abandoned,
    }
    planned.append(Planned("ncmec_replies", "ncmec/replies.json", "application/json", data=_json(replies)))
    planned.append(
        Planned(
            "case_snapshot", "snapshots/case.json", "application/json", data=_json(_case_snapshot(report))
        )
    )
    planned.append(
        Planned(
            "reported_user_snapshot",
            "snapshots/reported-user.json",
            "application/json",
            data=_json(_user_snapshot(report)),
        )
    )
    return planned, problems


def _case_snapshot(report: ExternalReport) -> dict:
    case = report.case
    return {
        "snapshot_at": utcnow().isoformat(),
        "report": {
            "id": report.id,
            "ncmec_report_id": report.ncmec_report_id,
            "agency": report.agency.name,
            "incident_type": report.incident_type,
            "escalate": report.escalate,
            "triggered_by": report.triggered_by,
            "created_by": report.created_by.email if report.created_by else None,
            "contact": {
                "first_name": report.contact_first_name,
                "last_name": report.contact_last_name,
                "email": report.contact_email,
            },
            "fingerprint": report.fingerprint,
            "created_at": _iso(report.created_at),
            "submitted_at": _iso(report.submitted_at),
            "finished_at": _iso(report.finished_at),
        },
        "as_sent": {k: v for k, v in (report.payload or {}).items() if k != "reported_user"},
        "case_at_preservation": {
            "id": case.id,
            "content_id": case.content_id,
            "queue": case.queue.name,
            "status": case.status,
            "source_kind": case.source_kind,
            "source_detail": case.source_detail,
            "text": case.text,
            "content_url": case.content_url,
            "reported_at": _iso(case.reported_at),
            "received_at": _iso(case.received_at),
            "decided_at": _iso(case.decided_at),
            "policy": case.policy.name if case.policy else None,
            "ai": {
                "detected": case.ai_detected,
                "policy": case.ai_policy.name if case.ai_policy else None,
                "confidence": case.ai_confidence,
                "model": case.ai_model,
            },
            "decisions": [
                {
                    "verdict": d.verdict,
                    "policy": d.policy.name if d.policy else None,
                    "made_by": d.made_by,
                    "moderator": d.moderator.email if d.moderator else None,
                    "note": d.note,
                    "at": _iso(d.created_at),
                }
                for d in case.decisions
            ],
            "files_sent": [
                {
                    "position": f.position + 1,
                    "original_name": f.original_name,
                    "sha256": f.sha256,
                    "md5": f.md5,
                    "viewed_by_esp": f.viewed_by_esp,
                    "industry_classification": f.industry_classification,
                    "ncmec_file_id": f.ncmec_file_id,
                }
                for f in report.files
            ],
        },
    }


def _user_snapshot(report: ExternalReport) -> dict:
    user = report.case.reported_user
    return {
        "snapshot_at": utcnow().isoformat(),
        "as_sent": (report.payload or {}).get("reported_user"),
        "at_preservation": None
        if user is None
        else {
            "id": user.id,
            "platform_id": user.platform_id,
            "name": user.name,
            "email": user.email,
            "screen_name": user.screen_name,
            "profile_url": user.profile_url,
            "ip_events": list(user.ip_events or []),
            # What the platform told about the user besides (api/platform_details.py's shape).
            "details": dict(user.details or {}),
        },
    }
