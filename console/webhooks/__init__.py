"""Webhooks to the platform: a decision's actions, enrichment before filing, preservation requests after.

- models.py — endpoints (encrypted, write-only secrets), actions and each policy's defaults, events, attempts,
  the hosts an admin allows.
- service.py — what causes events (`emit`; the receivers of cases' `case_decided` and reporting's
  `report_finished`), and what admins change (endpoints, secrets, actions, allowed hosts, Resend).
- delivery.py — one attempt at one event under the row's lease, signed with `standardwebhooks`; sweep.py —
  what no worker delivers is enqueued again. jobs/webhooks.py runs both.
- enrichment.py — asking the platform what it knows before a report's document is frozen (reporting's
  `report_freezing` signal), its answer checked by the API's own field rules.
- queries.py, forms.py, views.py (Settings → Platform webhooks, the deliveries pages, the case's section),
  cli.py (`flask webhooks …`).

Above reporting and the API in the layers: it subscribes to what cases and reporting announce, and checks the
platform's answers with the API's field rules; none of them imports it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.cases.signals import case_decided
    from console.reporting.signals import report_finished, report_freezing
    from console.webhooks import enrichment, service
    from console.webhooks.cli import webhooks_group
    from console.webhooks.views import bp

    case_decided.connect(service.on_case_decided)
    report_finished.connect(service.on_report_finished)
    report_freezing.connect(enrichment.on_report_freezing)
    app.register_blueprint(bp)
    app.cli.add_command(webhooks_group)
