"""Evidence: what was reported to NCMEC, preserved unchanged for at least a year; legal holds; the
law-enforcement package; the tamper-evident audit chain.

- models.py — EvidenceRecord (one per finished report), EvidenceItem (immutable, content-addressed),
  LegalHold.
- store.py — the evidence store: files named by SHA-256, apart from media.
- preservation.py — the finish hook (in the pipeline's finish transaction) and copying after it; the sweep.
- contents.py — what a record holds: the documents, replies, snapshots and files planned from a report.
- retention.py — holds, the purge of expired unheld evidence, media of "no violation" cases.
- package.py — the law-enforcement zip, and recording every access.
- chain.py — the audit log's hash chain, linked right after each commit; verify.
- queries.py, forms.py, views.py (admins only), cli.py (`flask evidence …`, `flask audit verify`);
  jobs/evidence.py runs the sweep, the retention and the chain's verification from rq cron.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.evidence import chain  # noqa: F401  (the chain links every commit's audit events)
    from console.evidence.cli import audit_group, evidence_group
    from console.evidence.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(evidence_group)
    app.cli.add_command(audit_group)
