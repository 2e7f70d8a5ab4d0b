"""A local CyberTipline: the same endpoints, documents, codes and state rules, plus fault injection.

Run it::

    python -m console.ncmec.simulator --host 127.0.0.1 --port 8765 --username U --password P [--db PATH]

and point the console at ``http://127.0.0.1:8765/ispws``. Tests use ``serve_in_thread()``.

The API lives under ``/ispws`` with HTTP Basic auth, like the real one. Everything under ``/_sim`` and the
HTML page at ``/`` need NO auth: this is a development tool bound to localhost, holding test data only.
Uploaded files are hashed and counted, never stored.

Inspection (JSON): ``GET /_sim/reports`` (``?state=finished`` filters), ``GET /_sim/reports/<id>`` (with the
received XML), ``GET /_sim/stats`` (calls per endpoint; ``DELETE`` resets the counters).

Faults: ``POST /_sim/faults`` with one fault object, a list of them, or
``{"faults": [...], "latency_ms": N}``; ``GET /_sim/faults`` lists them; ``DELETE /_sim/faults`` clears
all faults and the latency. A fault object::

    {"endpoint": "finish",   # status | xsd | submit | upload | fileinfo | finish | retract | "*" (any)
     "action": "drop",       # see below
     "times": 1,             # how many calls it affects; null = until cleared (default 1)
     "probability": 1.0,     # chance that a matching call is affected (default 1.0)
     "seed": 7,              # seed for that chance, for repeatable runs (optional)
     "code": 1000,           # for "code": the responseCode to answer with
     "http_status": 200,     # for "code": the HTTP status to send with it (default 200)
     "delay_ms": 250,        # for "delay"
     "timeout_ms": 2000}     # for "timeout"

Actions:
- ``delay``: wait ``delay_ms`` then handle the call normally (delays add up with other faults).
- ``http_500``: answer HTTP 500 with a plain-text body; nothing happens.
- ``code``: answer ``code`` (e.g. 1000, 2000, 4100) in a reportResponse; nothing happens.
- ``timeout``: wait ``timeout_ms`` (set it above the client's read timeout), THEN handle the call normally:
  the effect happens late, after the client has given up — the case a client must treat as indeterminate.
- ``drop``: handle the call and COMMIT its effect, then close the connection without writing any response.

``latency_ms`` is a delay added to every API call, for benchmarks. From Python, the same is available on
``SimulatorServer`` (``set_fault``, ``clear_faults``, ``set_latency``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import secrets
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, render_template_string, request
from lxml import etree
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .constants import (
    FILE_DOES_NOT_EXIST,
    REPORT_ALREADY_FINISHED,
    REPORT_ALREADY_RETRACTED,
    REPORT_DOES_NOT_EXIST,
    describe_code,
)
from .documents import parse_untrusted_xml
from .schema import file_details_schema, load_schema, report_schema, validation_error, xsd_bytes

ENDPOINTS = ("status", "xsd", "submit", "upload", "fileinfo", "finish", "retract")
ACTIONS = ("delay", "http_500", "code", "timeout", "drop")

OPEN, FINISHED, RETRACTED = "open", "finished", "retracted"


# --- faults -------------------------------------------------------------------------------------------------


@dataclass
class Fault:
    endpoint: str
    action: str
    times: int | None = 1
    probability: float = 1.0
    seed: int | None = None
    code: int = 1000
    http_status: int = 200
    delay_ms: int = 0
    timeout_ms: int = 2000
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.endpoint not in (*ENDPOINTS, "*"):
            raise ValueError(f"unknown endpoint {self.endpoint!r}; use one of {', '.join(ENDPOINTS)} or '*'")
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {', '.join(ACTIONS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for 'until cleared'")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        allowed = {name for name in cls.__dataclass_fields__ if not name.startswith("_")}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}


class FaultBook:
    """The faults and latency currently configured; safe to use from many request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_ms = 0
        self.fired: Counter[str] = Counter()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency_ms = 0

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def take(self, endpoint: str) -> tuple[float, Fault | None]:
        """Consume the faults this call triggers: the total extra delay (s) and the decisive fault, if any."""
        delay_ms = self.latency_ms
        decisive: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.endpoint not in (endpoint, "*"):
                    continue
                if fault.action != "delay" and decisive is not None:
                    continue
                if fault.probability < 1.0 and fault._rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                self.fired[f"{endpoint}:{fault.action}"] += 1
                if fault.action == "delay":
                    delay_ms += fault.delay_ms
                else:
                    decisive = fault
        return delay_ms / 1000, decisive


# --- store --------------------------------------------------------------------------------------------------


class ReportStateConflict(Exception):
    """The report or file is not in a state that allows the call; ``code`` is the response code to answer."""

    def __init__(self, code: int) -> None:
        super().__init__(describe_code(code))
        self.code = code


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
"""

FIRST_REPORT_ID = 100001


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SimulatorStore:
    """What the simulator received, in SQLite. One connection behind one lock: every call is atomic."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else ":memory:"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def _state(self, report_id: str) -> tuple[int, str]:
        if not str(report_id).isdigit():
            raise ReportStateConflict(REPORT_DOES_NOT_EXIST)
        row = self._db.execute("SELECT state FROM reports WHERE report_id = ?", (int(report_id),)).fetchone()
        if row is None:
            raise ReportStateConflict(REPORT_DOES_NOT_EXIST)
        return int(report_id), row["state"]

    def _require_open(self, report_id: str) -> int:
        key, state = self._state(report_id)
        if state == RETRACTED:
            raise ReportStateConflict(REPORT_ALREADY_RETRACTED)
        if state == FINISHED:
            raise ReportStateConflict(REPORT_ALREADY_FINISHED)
        return key

    def open_report(self, xml: bytes, fields: dict[str, Any]) -> str:
        now = _now()
        with self._lock:
            row = self._db.execute("SELECT MAX(report_id) AS last FROM reports").fetchone()
            report_id = max(row["last"] or 0, FIRST_REPORT_ID - 1) + 1
            self._db.execute(
                "INSERT INTO reports"
                " (report_id, state, opened_at, changed_at, incident_type, fields_json, xml)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, OPEN, now, now, fields.get("incident_type"), json.dumps(fields), xml.decode()),
            )
        return str(report_id)

    def add_file(self, report_id: str, filename: str | None, size: int, md5: str) -> str:
        # Real fileIds look opaque; a random hex id keeps callers from assuming anything about them.
        file_id = secrets.token_hex(16)
        with self._lock:
            key = self._require_open(report_id)
            self._db.execute(
                "INSERT INTO files (file_id, report_id, filename, size, md5, uploaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (file_id, key, filename, size, md5, _now()),
            )
            self._touch(key)
        return file_id

    def set_file_details(self, report_id: str, file_id: str, xml: bytes, fields: dict[str, Any]) -> None:
        with self._lock:
            key = self._require_open(report_id)
            row = self._db.execute(
                "SELECT 1 FROM files WHERE file_id = ? AND report_id = ?", (file_id, key)
            ).fetchone()
            if row is None:
                raise ReportStateConflict(FILE_DOES_NOT_EXIST)
            viewed = fields.get("file_viewed_by_esp")
            self._db.execute(
                "UPDATE files SET details_xml = ?, fields_json = ?, file_viewed_by_esp = ? WHERE file_id = ?",
                (xml.decode(), json.dumps(fields), None if viewed is None else int(viewed), file_id),
            )
            self._touch(key)

    def finish(self, report_id: str) -> list[str]:
        with self._lock:
            key = self._require_open(report_id)
            now = _now()
            self._db.execute(
                "UPDATE reports SET state = ?, finished_at = ?, changed_at = ?"
                " WHERE report_id = ? AND state = ?",
                (FINISHED, now, now, key, OPEN),
            )
            return self._file_ids(key)

    def retract(self, report_id: str) -> None:
        with self._lock:
            key, state = self._state(report_id)
            if state == FINISHED:
                raise ReportStateConflict(REPORT_ALREADY_FINISHED)
            if state == RETRACTED:
                raise ReportStateConflict(REPORT_ALREADY_RETRACTED)
            now = _now()
            self._db.execute(
                "UPDATE reports SET state = ?, retracted_at = ?, changed_at = ? WHERE report_id = ?",
                (RETRACTED, now, now, key),
            )

    def _touch(self, key: int) -> None:
        self._db.execute("UPDATE reports SET changed_at = ? WHERE report_id = ?", (_now(), key))

    def _file_ids(self, key: int) -> list[str]:
        rows = self._db.execute(
            "SELECT file_id FROM files WHERE report_id = ? ORDER BY uploaded_at, rowid", (key,)
        ).fetchall()
        return [row["file_id"] for row in rows]

    # Reading, for tests, the JSON endpoints and the HTML page.

    def reports(self, state: str | None = None, *, with_xml: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            if state:
                rows = self._db.execute(
                    "SELECT * FROM reports WHERE state = ? ORDER BY report_id", (state,)
                ).fetchall()
            else:
                rows = self._db.execute("SELECT * FROM reports ORDER BY report_id").fetchall()
            return [self._report_dict(row, with_xml) for row in rows]

    def report(self, report_id: str | int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM reports WHERE report_id = ?", (int(report_id),)).fetchone()
            return self._report_dict(row, True) if row else None

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
            "file_viewed_by_esp": None if viewed is None else bool(viewed),
            **(json.loads(row["fields_json"]) if row["fields_json"] else {}),
        }
        if with_xml:
            file["details_xml"] = row["details_xml"]
        return file


# --- reading received documents -----------------------------------------------------------------------------


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    value = node.findtext(path)
    return value if value not in (None, "") else None


def _bool(node: etree._Element, path: str) -> bool | None:
    value = _text(node, path)
    return None if value is None else value.strip() in ("true", "1")


def report_fields(root: etree._Element) -> dict[str, Any]:
    """The fields of a received ``report`` that tests and the page look at."""
    summary = root.find("incidentSummary")
    person = root.find("reporter/reportingPerson")
    annotations = summary.find("reportAnnotations") if summary is not None else None
    reported = []
    for user in root.findall("personOrUserReported"):
        details = user.find("personOrUserReportedPerson")
        reported.append(
            {
                "first_name": _text(details, "firstName"),
                "last_name": _text(details, "lastName"),
                "emails": [node.text for node in details.findall("email")] if details is not None else [],
                "person_display_name": _text(details, "displayName"),
                "esp_identifier": _text(user, "espIdentifier"),
                "esp_service": _text(user, "espService"),
                "screen_name": _text(user, "screenName"),
                "display_name": _text(user, "displayName"),
                "profile_url": _text(user, "profileUrl"),
                "ip_addresses": [node.text for node in user.findall("ipCaptureEvent/ipAddress")],
            }
        )
    return {
        "incident_type": _text(summary, "incidentType"),
        "incident_date_time": _text(summary, "incidentDateTime"),
        "escalate_to_high_priority": _text(summary, "escalateToHighPriority"),
        "report_annotations": [node.tag for node in annotations] if annotations is not None else [],
        "urls": [node.text for node in root.findall("internetDetails/webPageIncident/url")],
        "reporting_person": {
            "first_name": _text(person, "firstName"),
            "last_name": _text(person, "lastName"),
            "email": _text(person, "email"),
            "phone": _text(person, "phone"),
        },
        "reported_users": reported,
        "additional_info": _text(root, "additionalInfo"),
    }


def file_details_fields(root: etree._Element) -> dict[str, Any]:
    annotations = root.find("fileAnnotations")
    return {
        "file_name": _text(root, "fileName"),
        "original_file_name": _text(root, "originalFileName"),
        "location_of_file": _text(root, "locationOfFile"),
        "file_viewed_by_esp": _bool(root, "fileViewedByEsp"),
        "exif_viewed_by_esp": _bool(root, "exifViewedByEsp"),
        "publicly_available": _bool(root, "publiclyAvailable"),
        "file_relevance": _text(root, "fileRelevance"),
        "file_annotations": [node.tag for node in annotations] if annotations is not None else [],
        "industry_classification": _text(root, "industryClassification"),
        "original_file_hashes": {
            node.get("hashType"): node.text for node in root.findall("originalFileHash")
        },
    }


# --- the web app --------------------------------------------------------------------------------------------


def report_response(
    code: int,
    description: str | None = None,
    *,
    http_status: int = 200,
    report_id: str | None = None,
    file_id: str | None = None,
    md5: str | None = None,
    files: list[str] | None = None,
) -> Response:
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "responseDescription").text = description or describe_code(code)
    if report_id is not None:
        etree.SubElement(root, "reportId").text = report_id
    if file_id is not None:
        etree.SubElement(root, "fileId").text = file_id
    if md5 is not None:
        etree.SubElement(root, "hash").text = md5
    if files is not None:
        container = etree.SubElement(root, "files")
        for item in files:
            etree.SubElement(container, "fileId").text = item
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, status=http_status, content_type="text/xml; charset=utf-8")


@dataclass
class SimulatorState:
    username: str
    password: str
    store: SimulatorStore
    faults: FaultBook
    report_schema: etree.XMLSchema
    file_details_schema: etree.XMLSchema
    xsd: bytes
    calls: Counter[str] = field(default_factory=Counter)
    calls_lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, endpoint: str) -> None:
        with self.calls_lock:
            self.calls[endpoint] += 1

    def stats(self) -> dict[str, Any]:
        with self.calls_lock:
            calls = dict(self.calls)
        return {"calls": calls, "faults_fired": dict(self.faults.fired), "latency_ms": self.faults.latency_ms}

    def reset_stats(self) -> None:
        with self.calls_lock:
            self.calls.clear()
        self.faults.fired.clear()


def create_simulator(
    username: str = "esp-demo",
    password: str = "esp-demo-password",  # noqa: S107 - a local development tool's default
    store_path: str | Path | None = None,
    xsd_path: str | Path | None = None,
) -> Flask:
    """The simulator as a WSGI app. ``xsd_path`` validates against another XSD (e.g. the real one)."""
    if xsd_path:
        report_xsd = details_xsd = load_schema(xsd_path)
        xsd = Path(xsd_path).read_bytes()
    else:
        report_xsd, details_xsd, xsd = report_schema(), file_details_schema(), xsd_bytes()
    state = SimulatorState(
        username, password, SimulatorStore(store_path), FaultBook(), report_xsd, details_xsd, xsd
    )
    app = Flask(__name__)
    app.extensions["cybertipline_simulator"] = state
    app.register_blueprint(_api_blueprint(state))
    app.register_blueprint(_sim_blueprint(state))
    return app


def _authorised(state: SimulatorState) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    user_ok = hmac.compare_digest((auth.username or "").encode(), state.username.encode())
    password_ok = hmac.compare_digest((auth.password or "").encode(), state.password.encode())
    return user_ok and password_ok


def _drop_connection() -> None:
    # Shut the socket down without a response; the server's later write fails quietly (broken pipe).
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


Handler = Callable[[], Response]


def _api_blueprint(state: SimulatorState) -> Blueprint:
    api = Blueprint("cybertipline", __name__, url_prefix="/ispws")

    def endpoint(name: str, methods: list[str]) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            def view() -> Response:
                state.count(name)
                delay, fault = state.faults.take(name)
                if delay:
                    time.sleep(delay)
                if fault and fault.action == "timeout":
                    time.sleep(fault.timeout_ms / 1000)
                if fault and fault.action == "http_500":
                    return Response("Internal Server Error", status=500, content_type="text/plain")
                if fault and fault.action == "code":
                    return report_response(fault.code, http_status=fault.http_status)
                if not _authorised(state):
                    response = report_response(2000, "Authentication required", http_status=401)
                    response.headers["WWW-Authenticate"] = 'Basic realm="CyberTipline"'
                    return response
                try:
                    response = handler()
                except ReportStateConflict as conflict:
                    response = report_response(conflict.code)
                if fault and fault.action == "drop":
                    _drop_connection()
                return response

            api.add_url_rule(f"/{name}", endpoint=name, view_func=view, methods=methods)
            return handler

        return decorator

    def parse_document(root_name: str, schema: etree.XMLSchema) -> tuple[bytes, etree._Element | Response]:
        body = request.get_data(cache=True)
        try:
            root = parse_untrusted_xml(body)
        except (etree.XMLSyntaxError, ValueError) as error:
            return body, report_response(4110, f"Malformed XML: {error}")
        if root.tag != root_name:
            return body, report_response(4100, f"Validation failed: expected root element {root_name}")
        error = validation_error(schema, root)
        if error:
            return body, report_response(4100, f"Validation failed: {error}")
        return body, root

    @endpoint("status", ["GET"])
    def status() -> Response:
        return report_response(
            0, f"Remote User : {state.username}, Remote Ip Address : {request.remote_addr}"
        )

    @endpoint("xsd", ["GET"])
    def xsd() -> Response:
        return Response(state.xsd, content_type="text/xml; charset=utf-8")

    @endpoint("submit", ["POST"])
    def submit() -> Response:
        body, root = parse_document("report", state.report_schema)
        if isinstance(root, Response):
            return root
        report_id = state.store.open_report(body, report_fields(root))
        return report_response(0, report_id=report_id)

    @endpoint("upload", ["POST"])
    def upload() -> Response:
        report_id = request.form.get("id", "").strip()
        upload = request.files.get("file")
        if not report_id or upload is None:
            return report_response(4200, "Malformed file submittal: fields 'id' and 'file' are required")
        digest = hashlib.md5()  # noqa: S324 - the API reports MD5
        size = 0
        while chunk := upload.stream.read(65536):
            digest.update(chunk)
            size += len(chunk)
        md5 = digest.hexdigest()
        file_id = state.store.add_file(report_id, upload.filename, size, md5)
        return report_response(0, report_id=report_id, file_id=file_id, md5=md5)

    @endpoint("fileinfo", ["POST"])
    def fileinfo() -> Response:
        body, root = parse_document("fileDetails", state.file_details_schema)
        if isinstance(root, Response):
            return root
        report_id = (root.findtext("reportId") or "").strip()
        file_id = (root.findtext("fileId") or "").strip()
        state.store.set_file_details(report_id, file_id, body, file_details_fields(root))
        return report_response(0, report_id=report_id, file_id=file_id)

    @endpoint("finish", ["POST"])
    def finish() -> Response:
        report_id = request.form.get("id", "").strip()
        if not report_id:
            return report_response(4000, "Invalid request: form field 'id' is required")
        files = state.store.finish(report_id)
        return report_response(0, report_id=report_id, files=files)

    @endpoint("retract", ["POST"])
    def retract() -> Response:
        report_id = request.form.get("id", "").strip()
        if not report_id:
            return report_response(4000, "Invalid request: form field 'id' is required")
        state.store.retract(report_id)
        return report_response(0, report_id=report_id)

    return api


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CyberTipline simulator</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
.finished{color:#060}.retracted{color:#888}.open{color:#a60}</style></head>
<body><h1>CyberTipline simulator</h1>
<p>Local development tool: received reports ({{ reports|length }}). Calls: {{ stats.calls }}.</p>
<table><thead><tr><th>Report</th><th>State</th><th>Incident type</th><th>Contact</th><th>Reported user</th>
<th>Files</th></tr></thead><tbody>
{% for r in reports %}<tr>
<td>{{ r.report_id }}<br><small>{{ r.opened_at }}</small></td>
<td class="{{ r.state }}">{{ r.state }}</td>
<td>{{ r.incident_type }}</td>
<td>{{ r.reporting_person.first_name }} {{ r.reporting_person.last_name }}<br>
{{ r.reporting_person.email }}</td>
<td>{% for u in r.reported_users %}{{ u.screen_name or u.display_name or '' }} {{ u.esp_identifier or '' }}
{{ u.emails|join(', ') }}<br>{% endfor %}</td>
<td>{% for f in r.files %}{{ f.filename }} ({{ f.size }} B, md5 {{ f.md5 }}) viewed:
{{ 'yes' if f.file_viewed_by_esp else ('no' if f.file_viewed_by_esp is not none else 'unknown') }}<br>
{% endfor %}</td></tr>
{% else %}<tr><td colspan="6">No reports yet.</td></tr>{% endfor %}
</tbody></table></body></html>"""


def _sim_blueprint(state: SimulatorState) -> Blueprint:
    sim = Blueprint("simulator", __name__)

    @sim.get("/")
    @sim.get("/_sim/")
    def page() -> str:
        return render_template_string(_PAGE, reports=state.store.reports(), stats=state.stats())

    @sim.get("/_sim/reports")
    def reports() -> Response:
        return jsonify(state.store.reports(request.args.get("state")))

    @sim.get("/_sim/reports/<report_id>")
    def report(report_id: str) -> Response:
        found = state.store.report(report_id) if report_id.isdigit() else None
        if found is None:
            abort(404)
        return jsonify(found)

    @sim.get("/_sim/stats")
    def stats() -> Response:
        return jsonify(state.stats())

    @sim.delete("/_sim/stats")
    def reset_stats() -> Response:
        state.reset_stats()
        return jsonify(state.stats())

    @sim.get("/_sim/faults")
    def list_faults() -> Response:
        return jsonify({"faults": state.faults.list(), "latency_ms": state.faults.latency_ms})

    @sim.post("/_sim/faults")
    def add_faults() -> tuple[Response, int] | Response:
        data = request.get_json(silent=True)
        try:
            apply_fault_json(state.faults, data)
        except (TypeError, ValueError) as error:
            return jsonify({"error": str(error)}), 400
        return jsonify({"faults": state.faults.list(), "latency_ms": state.faults.latency_ms})

    @sim.delete("/_sim/faults")
    def clear_faults() -> Response:
        state.faults.clear()
        return jsonify({"faults": [], "latency_ms": 0})

    return sim


def apply_fault_json(faults: FaultBook, data: Any) -> None:
    """Apply the JSON accepted by ``POST /_sim/faults`` (see the module docstring)."""
    if isinstance(data, dict) and ("faults" in data or "latency_ms" in data):
        items = data.get("faults", [])
        latency = data.get("latency_ms")
    elif isinstance(data, dict):
        items, latency = [data], None
    elif isinstance(data, list):
        items, latency = data, None
    else:
        raise ValueError("expected a fault object, a list of them, or {'faults': [...], 'latency_ms': N}")
    parsed = [Fault.from_json(item) for item in items]  # all or nothing
    if latency is not None:
        if not isinstance(latency, int) or latency < 0:
            raise ValueError("latency_ms must be a non-negative integer")
        faults.latency_ms = latency
    for fault in parsed:
        faults.add(fault)


# --- serving ------------------------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SimulatorServer:
    """A simulator served by a multi-threaded server in a background thread (for tests and demos)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        self.app = app
        self.state: SimulatorState = app.extensions["cybertipline_simulator"]
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler if quiet else None
        )
        self.host = host
        self.port = self._server.server_port
        self.root_url = f"http://{host}:{self.port}"
        self.base_url = f"{self.root_url}/ispws"
        self._thread = threading.Thread(
            # A short poll interval makes shutdown() quick: it waits for the serving loop to notice.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cybertipline-simulator",
            daemon=True,
        )

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @property
    def username(self) -> str:
        return self.state.username

    @property
    def password(self) -> str:
        return self.state.password

    @property
    def store(self) -> SimulatorStore:
        return self.state.store

    @property
    def faults(self) -> FaultBook:
        return self.state.faults

    def set_fault(self, endpoint: str, action: str, **options: Any) -> Fault:
        """E.g. ``set_fault("finish", "drop")`` or ``set_fault("submit", "code", code=1000, times=3)``."""
        return self.state.faults.add(Fault(endpoint=endpoint, action=action, **options))

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.state.faults.latency_ms = ms

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def reports(self, state: str | None = None) -> list[dict[str, Any]]:
        return self.state.store.reports(state)

    def report(self, report_id: str | int) -> dict[str, Any] | None:
        return self.state.store.report(report_id)


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> SimulatorServer:
    """Start a simulator on ``host:port`` (0 = any free port) in a daemon thread; ``kwargs`` go to
    ``create_simulator``. Call ``.shutdown()`` when done."""
    return SimulatorServer(create_simulator(**kwargs), host, port).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local CyberTipline simulator (development only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--username", default="esp-demo")
    parser.add_argument("--password", default="esp-demo-password")
    parser.add_argument("--db", help="SQLite file to keep received reports in (default: in memory)")
    parser.add_argument("--xsd", help="validate against this XSD instead of the generated one")
    args = parser.parse_args(argv)
    app = create_simulator(args.username, args.password, args.db, args.xsd)
    server = SimulatorServer(app, args.host, args.port, quiet=False)
    print(f"CyberTipline simulator on {server.base_url} (inspect at {server.root_url}/)", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
