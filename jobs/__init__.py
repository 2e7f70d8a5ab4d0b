"""RQ jobs. They are thin: open the app context here, call a service function with ids.

Workers run the standard `rq worker` command against the project's queue name; job code gets its Flask app
context from `app_context()`, the one well-known place. The app is created once per process; a forked
work-horse that inherited it drops the parent's pooled connections first (sharing a socket across a fork
corrupts both sides).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

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
    with app().app_context():
        yield
