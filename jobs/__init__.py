"""RQ jobs. They are thin: open the app context here, call a service function with ids.

Workers run the standard `rq worker` command against the project's queue name; job code gets its Flask app
context from `app_context()`, the one well-known place. The app is created once per process; a forked
work-horse that inherited it drops the parent's pooled connections first (sharing a socket across a fork
corrupts both sides).

`app_context()` also binds the job's request id (console/logs.py): the one its meta carries from the web
request or job that enqueued it, or a new one for a job nobody started (RQ's cron); every line the job logs
carries it and the job's id, and every job it enqueues carries it on.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager

from rq import get_current_job

from console import logs

log = logging.getLogger(__name__)

_app = None
_pid = None


def use_app(app) -> None:
    """Tests and embedders run jobs against an app they built themselves."""
    global _app, _pid
    _app, _pid = app, os.getpid()


def app():
    global _app, _pid
    if _app is None:
        from console import create_app

        _app, _pid = create_app(), os.getpid()
    elif _pid != os.getpid():
        from console.extensions import db

        with _app.app_context():
            db.engine.dispose(close=False)
        _app.extensions.pop("console_redis", None)
        _pid = os.getpid()
    return _app


@contextmanager
def app_context():
    job = get_current_job()
    meta = job.meta if job is not None else {}
    request_id = logs.sane_request_id(meta.get("request_id")) or logs.current_request_id()
    request_id = request_id or logs.new_request_id()
    tokens = logs.bind(request_id, job.id if job is not None else logs.current_job_id())
    try:
        with app().app_context():
            if job is not None:
                # INFO: in JSON logs (the worker's side of the web's "enqueued … as job …"), not in text.
                log.info("job %s started: %s", job.id, job.description)
            yield
    finally:
        logs.unbind(tokens)
