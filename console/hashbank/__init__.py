"""The hash bank: re-uploads of reported content are recognised at ingestion.

- models.py — sources (a finished report, an imported list), entries, the PDQ feed, media hashes, matches.
- hashing.py — the algorithms, their written form, PDQ computed from an image.
- index.py — PDQ lookups within a Hamming distance (multi-index hashing, in memory, kept up to date).
- bank.py — banking a finished report (on reporting's `report_finished` signal, and the sweep).
- lists.py — importing a hash list (CSV).
- matching.py — matching new media at ingestion (large images in a job), routing a case that matches.
- queries.py, forms.py, views.py (admins; the case page's banner as a section), cli.py (`flask hashbank …`);
  jobs/hashbank.py runs the deferred matching and the sweep.

Above reporting in the layers: it reads reporting's rules to route a match, and reporting only announces a
finish (console/reporting/signals.py), which the bank subscribes to here.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.hashbank import bank
    from console.hashbank.cli import hashbank_group
    from console.hashbank.views import bp
    from console.reporting.signals import report_finished

    report_finished.connect(bank.on_report_finished)
    app.register_blueprint(bp)
    app.cli.add_command(hashbank_group)
