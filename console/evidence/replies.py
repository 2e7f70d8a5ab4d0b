"""NCMEC's replies kept as received: every submit, upload, fileinfo, finish and retract reply's body.

The CyberTipline client hands each reply to `keep` (its `on_reply` hook, set by reporting's `client_for`)
the moment the body is read, before the client interprets it. The pipeline commits only the values a reply
carried (report id, file id, MD5); the package must show what NCMEC actually said, so the bytes are written
here, in a transaction of their own when the session owns its transactions (kept even if the pipeline then
rolls back, an error reply too), else in the caller's transaction (the worker's warm-up, rolled back whole).
A reply is matched to a report by NCMEC's report id: an abandoned report's replies stay findable by its id.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, insert, select

from console.evidence.models import NcmecReply
from console.extensions import db
from console.ncmec.client import Reply
from console.timeutil import utcnow

MAX_BODY = 1_000_000  # the client reads no more (max_response_bytes)


def keep(reply: Reply) -> None:
    values = dict(
        ncmec_report_id=(reply.report_id or "")[:100],
        endpoint=reply.endpoint,
        http_status=reply.http_status or 0,
        body=reply.body[:MAX_BODY],
        sha256=hashlib.sha256(reply.body[:MAX_BODY]).hexdigest(),
        received_at=utcnow(),
    )
    bind = db.session.get_bind()
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            connection.execute(insert(NcmecReply).values(**values))
    else:
        db.session.add(NcmecReply(**values))


def of_reports(ncmec_report_ids) -> list[NcmecReply]:
    """The kept replies about these NCMEC report ids, in the order they were received."""
    ids = [i for i in dict.fromkeys(ncmec_report_ids) if i]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(NcmecReply)
            .where(NcmecReply.ncmec_report_id.in_(ids))
            .order_by(NcmecReply.received_at, NcmecReply.id)
        )
    )
