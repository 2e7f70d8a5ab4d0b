"""What the console answers while a part underneath it is down: the database, Redis, or a full disk.

Every page and API call that meets such a fault ends here, never in a traceback or a bare 500:
- a page answers 503 with a page of its own that names the part and says that nothing was changed (it is
  rendered without the signed-in user, whose row is in the database that may be the part that is down);
- the API answers 503 JSON with `Retry-After`: an upstream system sends the same request again later, and the
  content id makes that safe (a repeat finds the case the first one made, if its commit went through);
- a full disk (ENOSPC, EDQUOT) is the one fault the console cannot ride out by waiting on its own: it stops
  taking what it cannot store whole and says so, and readiness names the store (checks.storage).

What was in flight is safe without this module: a request's transaction rolls back with its connection, and
the ingestion removes the media it wrote unless its commit's outcome is unknown (console/api/ingestion.py).
"""

from __future__ import annotations

import errno
import logging

import redis
from flask import Flask, g, jsonify, render_template, request
from sqlalchemy import exc as sa_exc

from console.extensions import db, login_manager

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)

PARTS = {
    "database": (
        "The database is not answering",
        "The console cannot read or save anything until the database is back. Nothing was changed; "
        "try again in a minute. Reports already confirmed are kept and filed when it returns.",
    ),
    "redis": (
        "The job queue (Redis) is not answering",
        "This action needs the job queue, which is not answering. Nothing was changed; try again in a "
        "minute. Work already saved is not lost: the console queues it again when Redis returns.",
    ),
    "storage": (
        "The console's storage is full",
        "The disk that holds media or evidence is full, so the console takes nothing it could only store "
        "in part. Nothing was stored; an operator must free space. Try again later.",
    ),
}


def is_database_down(error: BaseException) -> bool:
    """A lost or refused connection (or the pool waiting for one), not a query the database refused."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in FULL_DISK


def as_anonymous() -> None:
    """From here on the request is anonymous: loading the signed-in user needs the database, which may be
    the part that is down, and the response's own hooks ask who is signed in."""
    g._login_user = login_manager.anonymous_user()


def answer(part: str, error: BaseException):
    """The 503 for `part`: JSON with Retry-After for the API, else the outage page (a fragment for htmx)."""
    from console.security import is_api_request

    log.warning("%s %s: %s is down (%s)", request.method, request.path, part, type(error).__name__)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown
        log.debug("rollback after %s failed", part, exc_info=True)
    as_anonymous()
    title, message = PARTS[part]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if is_api_request():
        response = jsonify({"errors": {part: message}, "retry_after": RETRY_AFTER_SECONDS})
        response.status_code = 503
        response.headers.update(headers)
        return response
    fragment = request.headers.get("HX-Request") == "true"
    template = "errors/_outage.html" if fragment else "errors/outage.html"
    return render_template(template, part=part, title=title, message=message), 503, headers


def _end_session_safely(_error=None) -> None:
    """Flask-SQLAlchemy's teardown, which must not raise: ending the session rolls back, and a ROLLBACK on a
    connection PostgreSQL is terminating (a restart) raises — after the page was rendered, so the answer
    became a bare 500 from gunicorn. A connection that cannot roll back is invalidated (closed, never
    pooled again), and the session is discarded."""
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001 - the connection died under the request; nothing is left to keep
        log.warning("the database connection was lost at the end of a request; it is discarded")
        try:
            db.session.registry().invalidate()
        except Exception:  # noqa: BLE001
            log.debug("invalidating the lost connection failed", exc_info=True)
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    funcs = app.teardown_appcontext_funcs
    for i, func in enumerate(funcs):
        if getattr(func, "__name__", "") == "_teardown_session":  # Flask-SQLAlchemy's
            funcs[i] = _end_session_safely

    def database_down(error):
        if not is_database_down(error):
            raise error
        return answer("database", error)

    # Not DBAPIError itself: its DataError is a value out of range (console/security.py's handler).
    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(kind, database_down)

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def redis_down(error):
        return answer("redis", error)

    @app.errorhandler(OSError)
    def disk_full(error):
        if not is_disk_full(error):
            raise error
        return answer("storage", error)
