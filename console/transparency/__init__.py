"""Transparency: CyberTips per month by incident type, automatic and human, the time from confirmation to
finished (median, p90, a chart drawn as SVG), failures and retries by reason, re-upload matches; for a
period, on a page and as CSV. Read-only: queries.py computes, views.py shows (admins only).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.transparency.views import bp

    app.register_blueprint(bp)
