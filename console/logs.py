"""Logs: the text the console always wrote, or one JSON object per line (LOG_FORMAT=json), with request ids.

A request id names one piece of work wherever it goes: the web request that started it (taken from a sane
`X-Request-ID` header, else made here, and sent back in the response's `X-Request-ID`), then every RQ job
enqueued while it ran (`console/tasks.py` puts it in the job's meta), and the jobs those jobs enqueue
(retries, the sweep's). In a worker, `jobs.app_context` binds it again from the job's meta, with the job's
id; a job that nobody started (RQ's cron) gets an id of its own. It lives in a contextvar, so every line
logged while the work runs carries it, through the standard `logging`, without any module passing it on.

Text (the default) leaves the process's logging as it was: nothing is installed. JSON installs one handler
on the root logger, writing to the process's stderr (the web app, the workers, the CLI alike):

    {"time": "2026-11-28T06:40:01.123Z", "level": "WARNING", "logger": "console.reporting.pipeline",
     "message": "...", "request_id": "4f0c…", "job_id": "9b1e…", "report_id": 12}

plus `exception` (the traceback) when there is one, and whatever the call passed in `extra=` (`case_id`,
`report_id`, …). A header value is never trusted into the logs: anything but a short token of printable
ASCII is replaced by a fresh id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime

HEADER = "X-Request-ID"
FORMATS = ("text", "json")
MAX_ID_LENGTH = 64
# Letters, digits and the punctuation ids are made of (uuids, trace ids like "Root=1-5e1b-…"): no spaces,
# no quotes, no control characters, nothing outside ASCII.
_SANE_ID = re.compile(rf"[A-Za-z0-9._:/+=@-]{{1,{MAX_ID_LENGTH}}}")

_request_id: ContextVar[str | None] = ContextVar("console_request_id", default=None)
_job_id: ContextVar[str | None] = ContextVar("console_job_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: object) -> str | None:
    """The value if it is a short printable-ASCII token, else None (the caller makes a new id)."""
    if isinstance(value, str) and _SANE_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    return _request_id.get()


def current_job_id() -> str | None:
    return _job_id.get()


def bind(request_id: str | None, job_id: str | None = None) -> tuple[Token, Token]:
    """Every line logged from here on (in this context) carries these ids; `unbind` the tokens after."""
    return _request_id.set(request_id), _job_id.set(job_id)


def unbind(tokens: tuple[Token, Token]) -> None:
    request_token, job_token = tokens
    _job_id.reset(job_token)
    _request_id.reset(request_token)


# --- the JSON lines -----------------------------------------------------------------------------------------

# What every LogRecord has; anything else on a record came from `extra=` and is written as a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, job_id, extras.

    json.dumps escapes newlines and control characters, so a message (or a traceback) can never start a
    line of its own that a reader would take for another entry.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        job_id = _job_id.get()
        if job_id:
            entry["job_id"] = job_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: no reader splits a line on U+2028 or NEL inside a message.
        return json.dumps(entry, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (gunicorn, RQ and pytest all replace it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


# LOG_LEVEL is the level of the console's own loggers; libraries keep the root's (warnings), RQ its own.
OWN_LOGGERS = ("console", "jobs")
_installed: logging.Handler | None = None


def configure(fmt: str, level: str = "INFO") -> None:
    """Set the process's logging for LOG_FORMAT: "text" (as it always was) or "json". Idempotent: the last
    app created decides (a process normally creates one)."""
    global _installed
    fmt = (fmt or "text").strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
        _installed = None
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
    if fmt == "text":
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel((level or "INFO").strip().upper())
    root.addHandler(handler)
    _installed = handler


# --- the web: one id per request ----------------------------------------------------------------------------


class RequestIdMiddleware:
    """WSGI: bind the request's id for everything the request runs (hooks, views, error pages, teardown),
    and send it back in the response's X-Request-ID."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        request_id = sane_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id()
        environ["console.request_id"] = request_id

        def start_with_id(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        tokens = bind(request_id)
        try:
            return self.wsgi_app(environ, start_with_id)
        finally:
            unbind(tokens)


def init_app(app) -> None:
    configure(app.config.get("LOG_FORMAT", "text"), app.config.get("LOG_LEVEL", "INFO"))
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)
