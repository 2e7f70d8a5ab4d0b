"""External reporting: NCMEC, reporting rules, and the reports filed with them (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Reporting subscribes to what cases announce; cases imports nothing from reporting."""
    from console.cases.signals import violation_confirmed
    from console.reporting import service

    violation_confirmed.connect(service.on_violation_confirmed)
    # One name per incident type wherever a person reads it: the dialog's (IncidentType.label), not NCMEC's
    # enumeration value, which stays in the XML and the CSV export.
    app.jinja_env.filters["incident_label"] = incident_label


def incident_label(value) -> str:
    from console.ncmec import IncidentType

    try:
        return IncidentType(value).label
    except ValueError:
        return "" if value is None else str(value)
