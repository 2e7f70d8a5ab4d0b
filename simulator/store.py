"""What the simulator received, in SQLite: reports, their files, and the documents it refused.

One connection behind one lock, so every method is atomic. Uploaded files are hashed and counted, never
stored. Refused documents are kept (truncated) so that a developer can see why the service said no.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .replies import (
    FILE_DOES_NOT_EXIST,
    REPORT_ALREADY_FINISHED,
    REPORT_ALREADY_RETRACTED,
    REPORT_DOES_NOT_EXIST,
    describe,
)

OPEN, FINISHED, RETRACTED, EXPIRED = "open", "finished", "retracted", "expired"

# NCMEC deletes a report that is never finished 24 h after it was opened or 1 h after its last change,
# whichever is later.
UNFINISHED_LIFETIME = timedelta(hours=24)
UNFINISHED_IDLE = timedelta(hours=1)

REFUSED_BODY_LIMIT = 64 * 1024
FIRST_REPORT_ID = 100001

Clock = Callable[[], datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    finished_at TEXT,
    retracted_at TEXT,
    incident_type TEXT,
    fields_json TEXT NOT NULL,
    xml TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(report_id),
    filename TEXT,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    file_viewed_by_esp INTEGER,
    fields_json TEXT,
    details_xml TEXT
);
CREATE INDEX IF NOT EXISTS files_by_report ON files(report_id);
CREATE TABLE IF NOT EXISTS refusals (
    refusal_id INTEGER PRIMARY KEY,
    refused_at TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    code INTEGER NOT NULL,
    message TEXT NOT NULL,
    body TEXT NOT NULL,
    body_size INTEGER NOT NULL
);
"""

# Columns added after the first version; a --db file from then gains them on open.
_ADDED_COLUMNS = {"reports": {"expires_at": "TEXT"}}


class ReportStateConflict(Exception):
    """The report or file is not in a state that allows the call; ``code`` is the response code to answer."""

    def __init__(self, code: int) -> None:
        super().__init__(describe(code))
        self.code = code


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatorStore:
    """Reports and refusals. ``clock`` gives the time (tests pass their own); with ``expire_unfinished``,
    an unfinished report past NCMEC's deadline is gone for every call (5001), and shows as ``expired``."""

    def __init__(
        self, path: str | Path | None = None, *, clock: Clock = _utc_now, expire_unfinished: bool = False
    ) -> None:
        self.path = str(path) if path else ":memory:"
        self.clock = clock
        self.expire_unfinished = expire_unfinished
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        for table, columns in _ADDED_COLUMNS.items():
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    @staticmethod
    def _stamp(moment: datetime) -> str:
        # One fixed format in UTC, so that stamps compare correctly as text in SQL.
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")

    def _expire(self, now: datetime) -> None:
        if self.expire_unfinished:
            self._db.execute(
                "UPDATE reports SET state = ? WHERE state = ? AND expires_at <= ?",
                (EXPIRED, OPEN, self._stamp(now)),
            )

    def _state(self, report_id: str) -> tuple[int, str]:
        # xs:long has at most 19 digits; anything else names no report (and would overflow SQLite).
        if not str(report_id).isdigit() or len(str(report_id)) > 18:
            raise ReportStateConflict(REPORT_DOES_NOT_EXIST)
        row = self._db.execute("SELECT state FROM reports WHERE report_id = ?", (int(report_id),)).fetchone()
        if row is None or row["state"] == EXPIRED:
            raise ReportStateConflict(REPORT_DOES_NOT_EXIST)
        return int(report_id), row["state"]

    def _require_open(self, report_id: str) -> int:
        key, state = self._state(report_id)
        if state == RETRACTED:
            raise ReportStateConflict(REPORT_ALREADY_RETRACTED)
        if state == FINISHED:
            raise ReportStateConflict(REPORT_ALREADY_FINISHED)
        return key

    def _touch(self, key: int, now: datetime) -> None:
        opened = datetime.fromisoformat(
            self._db.execute("SELECT opened_at FROM reports WHERE report_id = ?", (key,)).fetchone()[0]
        )
        expires = max(opened + UNFINISHED_LIFETIME, now + UNFINISHED_IDLE)
        self._db.execute(
            "UPDATE reports SET changed_at = ?, expires_at = ? WHERE report_id = ?",
            (self._stamp(now), self._stamp(expires), key),
        )

    # The API's changes.

    def open_report(self, xml: bytes, fields: dict[str, Any]) -> str:
        with self._lock:
            now = self._now()
            row = self._db.execute("SELECT MAX(report_id) AS last FROM reports").fetchone()
            report_id = max(row["last"] or 0, FIRST_REPORT_ID - 1) + 1
            self._db.execute(
                "INSERT INTO reports (report_id, state, opened_at, changed_at, expires_at, incident_type,"
                " fields_json, xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report_id,
                    OPEN,
                    self._stamp(now),
                    self._stamp(now),
                    self._stamp(now + UNFINISHED_LIFETIME),
                    fields.get("incident_type"),
                    json.dumps(fields),
                    xml.decode("utf-8", errors="replace"),
                ),
            )
        return str(report_id)

    def add_file(self, report_id: str, filename: str | None, size: int, md5: str) -> str:
        # Real fileIds are 32 hex characters with no visible structure; random ones keep callers honest.
        file_id = secrets.token_hex(16)
        with self._lock:
            now = self._now()
            self._expire(now)
            key = self._require_open(report_id)
            self._db.execute(
                "INSERT INTO files (file_id, report_id, filename, size, md5, uploaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (file_id, key, filename, size, md5, self._stamp(now)),
            )
            self._touch(key, now)
        return file_id

    def set_file_details(self, report_id: str, file_id: str, xml: bytes, fields: dict[str, Any]) -> None:
        # A second fileDetails for the same file replaces the first (the real behaviour is not known).
        with self._lock:
            now = self._now()
            self._expire(now)
            key = self._require_open(report_id)
            row = self._db.execute(
                "SELECT 1 FROM files WHERE file_id = ? AND report_id = ?", (file_id, key)
            ).fetchone()
            if row is None:
                raise ReportStateConflict(FILE_DOES_NOT_EXIST)
            viewed = fields.get("file_viewed_by_esp")
            self._db.execute(
                "UPDATE files SET details_xml = ?, fields_json = ?, file_viewed_by_esp = ? WHERE file_id = ?",
                (
                    xml.decode("utf-8", errors="replace"),
                    json.dumps(fields),
                    None if viewed is None else int(viewed),
                    file_id,
                ),
            )
            self._touch(key, now)

    def finish(self, report_id: str) -> list[str]:
        with self._lock:
            now = self._now()
            self._expire(now)
            key = self._require_open(report_id)
            self._db.execute(
                "UPDATE reports SET state = ?, finished_at = ?, changed_at = ? WHERE report_id = ?",
                (FINISHED, self._stamp(now), self._stamp(now), key),
            )
            return self._file_ids(key)

    def retract(self, report_id: str) -> None:
        with self._lock:
            now = self._now()
            self._expire(now)
            key = self._require_open(report_id)
            self._db.execute(
                "UPDATE reports SET state = ?, retracted_at = ?, changed_at = ? WHERE report_id = ?",
                (RETRACTED, self._stamp(now), self._stamp(now), key),
            )

    def record_refusal(self, endpoint: str, code: int, message: str, body: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO refusals (refused_at, endpoint, code, message, body, body_size)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._stamp(self._now()),
                    endpoint,
                    code,
                    message,
                    body[:REFUSED_BODY_LIMIT].decode("utf-8", errors="replace"),
                    len(body),
                ),
            )

    def _file_ids(self, key: int) -> list[str]:
        rows = self._db.execute(
            "SELECT file_id FROM files WHERE report_id = ? ORDER BY uploaded_at, rowid", (key,)
        ).fetchall()
        return [row["file_id"] for row in rows]

    # Reading, for tests, the JSON endpoints and the HTML page.

    def reports(self, state: str | None = None, *, with_xml: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            self._expire(self._now())
            if state:
                rows = self._db.execute(
                    "SELECT * FROM reports WHERE state = ? ORDER BY report_id", (state,)
                ).fetchall()
            else:
                rows = self._db.execute("SELECT * FROM reports ORDER BY report_id").fetchall()
            return [self._report_dict(row, with_xml) for row in rows]

    def report(self, report_id: str | int) -> dict[str, Any] | None:
        with self._lock:
            self._expire(self._now())
            row = self._db.execute("SELECT * FROM reports WHERE report_id = ?", (int(report_id),)).fetchone()
            return self._report_dict(row, True) if row else None

    def refusals(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM refusals ORDER BY refusal_id").fetchall()
        return [
            {
                "refused_at": row["refused_at"],
                "endpoint": row["endpoint"],
                "code": row["code"],
                "message": row["message"],
                "body": row["body"],
                "body_size": row["body_size"],
                "truncated": row["body_size"] > REFUSED_BODY_LIMIT,
            }
            for row in rows
        ]

    def _report_dict(self, row: sqlite3.Row, with_xml: bool) -> dict[str, Any]:
        files = self._db.execute(
            "SELECT * FROM files WHERE report_id = ? ORDER BY uploaded_at, rowid", (row["report_id"],)
        ).fetchall()
        report = {
            "report_id": str(row["report_id"]),
            "state": row["state"],
            "opened_at": row["opened_at"],
            "changed_at": row["changed_at"],
            "finished_at": row["finished_at"],
            "retracted_at": row["retracted_at"],
            "expires_at": row["expires_at"] if row["state"] == OPEN else None,
            **json.loads(row["fields_json"]),
            "files": [self._file_dict(file, with_xml) for file in files],
        }
        if with_xml:
            report["xml"] = row["xml"]
        return report

    @staticmethod
    def _file_dict(row: sqlite3.Row, with_xml: bool) -> dict[str, Any]:
        viewed = row["file_viewed_by_esp"]
        file = {
            "file_id": row["file_id"],
            "filename": row["filename"],
            "size": row["size"],
            "md5": row["md5"],
            "uploaded_at": row["uploaded_at"],
            "details_received": row["details_xml"] is not None,
            **(json.loads(row["fields_json"]) if row["fields_json"] else {}),
            "file_viewed_by_esp": None if viewed is None else bool(viewed),
        }
        if with_xml:
            file["details_xml"] = row["details_xml"]
        return file
