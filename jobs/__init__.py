"""RQ jobs. They are thin: open the app context here, call a service function with ids.

Workers run the standard `rq worker` command against the project's queue name; job code gets its Flask app
context from `app_context()`, the one well-known place, created once per worker process.
"""

from __future__ import annotations

from contextlib import contextmanager

_app = None


def app():
    global _app
    if _app is None:
        from console import create_app

        _app = create_app()
    return _app


@contextmanager
def app_context():
    with app().app_context():
        yield
