"""A chat thread as a file: the transcript a chat report carries as a Supplemental Reported file.

Written when the report is created, from the thread frozen in its payload, and stored like media (by its
SHA-256, 0600, under MEDIA_ROOT): the pipeline uploads it like any other file of the report. Plain text, not
CSV: a spreadsheet opening a CSV runs a cell that starts with "=" as a formula, and evidence is never altered
to defuse one. Each message's text is indented, so no message can make a line look like the next header.
"""

from __future__ import annotations

from console.media import storage
from console.ncmec import FileRelevance
from console.reporting.models import ReportFile

MIME_TYPE = "text/plain"


def file_name(case_id: int) -> str:
    return f"case-{case_id}-message-thread.txt"


def _line(msg: dict) -> str:
    who = msg.get("sender") or "unknown sender"
    if msg.get("recipient"):
        who += f" → {msg['recipient']}"
    return f"{msg['sent_at']} {who}"


def text(case_id: int, messages: list[dict]) -> str:
    """The transcript: a header, then each message's time, sender → recipient, attachments and text."""
    out = [
        f"Message thread of moderation console case #{case_id}: {len(messages)} message"
        f"{'s' if len(messages) != 1 else ''}, as received from the platform. Times are UTC (ISO 8601).",
        "",
    ]
    for n, msg in enumerate(messages, 1):
        out.append(f"[{n}] {_line(msg)}")
        for att in msg.get("attachments", []):
            out.append(f"    attachment: {att['name']} (SHA-256 {att['sha256']})")
        body = msg.get("text") or ""
        out += [f"    | {row}" for row in body.splitlines()] if body else ["    (no text)"]
        out.append("")
    return "\n".join(out)


def content(messages: list[dict]) -> str:
    """The thread for the report's own ``chatImIncident/content``: one line per message."""
    lines = []
    for msg in messages:
        names = ", ".join(a["name"] for a in msg.get("attachments", []))
        body = " ".join((msg.get("text") or "").split())
        lines.append(f"{_line(msg)}: {body}" + (f" [attachments: {names}]" if names else ""))
    return "\n".join(lines)


def report_file(case_id: int, messages: list[dict], *, position: int, store: bool) -> ReportFile:
    """The transcript's report file; with ``store`` its bytes are written to the media store."""
    data = text(case_id, messages).encode()
    digests = storage.store_generated(data) if store else storage.digests(data)
    return ReportFile(
        media_id=None,
        storage_key=digests.key if store else None,
        position=position,
        original_name=file_name(case_id),
        sha256=digests.sha256,
        md5=digests.md5,
        relevance=FileRelevance.SUPPLEMENTAL_REPORTED.value,
        # No person viewed this file: the console wrote it (fileViewedByEsp has legal weight, API.md).
        viewed_by_esp=False,
        exif_viewed_by_esp=False,
        industry_classification=None,
        annotations=[],
        hashes=[],
    )
