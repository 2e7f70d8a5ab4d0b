"""Small helpers shared by views and templates: htmx detection, template filters."""

from __future__ import annotations

from flask import Flask, render_template, request

from console.timeutil import age


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def page_or_fragment(page: str, fragment: str, **context) -> str:
    """One URL serves both: the full page, or the fragment an htmx request swaps in."""
    return render_template(fragment if is_htmx() else page, **context)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["dt"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"
    app.jinja_env.filters["iso"] = lambda d: d.isoformat() if d else ""
    # Lets shared templates link to areas only when their blueprint provides the page.
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
