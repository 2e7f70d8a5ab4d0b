"""External reporting: NCMEC, reporting rules, and the reports filed with them (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Reporting subscribes to what cases announce; cases imports nothing from reporting."""
    from console.cases.signals import violation_confirmed
    from console.reporting import service

    violation_confirmed.connect(service.on_violation_confirmed)
