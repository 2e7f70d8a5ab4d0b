"""Evidence: what was reported to NCMEC, preserved unchanged for at least a year; legal holds; the
law-enforcement package; the audit log as a transparency log.

- models.py — EvidenceRecord (one per finished report), EvidenceItem (immutable, content-addressed),
  LegalHold.
- store.py — the evidence store: files named by SHA-256, apart from media.
- preservation.py — the finish hook (in the pipeline's finish transaction) and copying after it; the sweep.
- contents.py — what a record holds: the documents, replies, snapshots and files planned from a report.
- retention.py — holds, the purge of expired unheld evidence, media of "no violation" cases.
- package.py — the law-enforcement zip, and recording every access; custody.py — its chain of custody
  from the audit log with each step's inclusion proof; packagecheck.py — checking a package offline
  (`flask evidence verify-package`); replies.py — NCMEC's replies kept as received.
- The audit log (events: console/audit.py, one INSERT each; the protocol: console/tlog/), in Trillian's three
  parts: logstore.py (append-only storage: the tree's nodes, the signed checkpoints, proofs read from them),
  sealer.py (unsealed events into the tree, a checkpoint per batch), signer.py (the Ed25519 key); and
  logcheck.py (`flask audit verify`: every event against the checkpoints; the page's state).
- queries.py, forms.py, views.py (admins only), cli.py (`flask evidence …`, `flask audit …`);
  jobs/evidence.py runs the sweep, the retention, the sealer and the log's verification from rq cron.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from console.evidence.cli import audit_group, evidence_group
    from console.evidence.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(evidence_group)
    app.cli.add_command(audit_group)
