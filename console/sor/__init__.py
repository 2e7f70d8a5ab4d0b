"""Statements of reasons to the EU's DSA Transparency Database: the console's side of console/dsa.

- models.py — the agency (off until configured), its sandbox and production environments (encrypted,
  write-only tokens), the admins' mapping, and one StatementOfReasons per decision.
- agency.py — environments, Test connection, on/off, the EU countries; mapping.py — the mapping, its
  checks.
- building.py — the receiver of cases' `case_decided`: the statement built and frozen in the decision's
  transaction, its PUID stored with it (or waiting, with the reason, for an incomplete mapping).
- sending.py — batches of up to 100 per environment under each row's lease, through console/dsa `deliver`;
  sweep.py — what no worker drives is enqueued again. jobs/sor.py runs both.
- service.py — what admins change (each commits, then enqueues); queries.py, views.py — the pages and the
  sections on the case, External reporting and transparency pages.

Above webhooks in the layers: a statement says what the decision's platform actions restricted.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.cases.signals import case_decided
    from console.sor import building
    from console.sor.views import bp

    case_decided.connect(building.on_case_decided)
    app.register_blueprint(bp)
