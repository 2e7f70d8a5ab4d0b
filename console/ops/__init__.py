"""What an on-call engineer asks of the console: is it alive, is it ready, what are its numbers, and how old
is the oldest report the law says to file "as soon as reasonably possible" (the filing clock)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console import outage
    from console.ops.views import bp

    app.register_blueprint(bp)
    outage.init_app(app)  # 503 pages and API answers while the database, Redis or a disk is down
