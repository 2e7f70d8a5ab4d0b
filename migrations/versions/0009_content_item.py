"""One report per content item, not per unique bytes: reports keyed by the platform's content id, else the
normalised content URL, else the case (issue 32)

The old key was the SHA-256 of the media bytes, so any other upload of a file reported before was refused a
report of its own. Existing rows are re-keyed from their case. Two live reports that the old key kept apart
(different bytes under one URL) may now share a key: the oldest keeps it and the others are keyed by their
own case — they were filed separately and stay separate.

Revision ID: 0009_content_item
Revises: 0008_queue_open_hours
"""

import hashlib
import json
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision = "0009_content_item"
down_revision = "0008_queue_open_hours"
branch_labels = None
depends_on = None


# Written out here, as filing.py had it on this day: a migration must not change when the code does.
def _normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _keys(case_id, content_id, content_url, thread, media_count):
    is_thread = bool(thread) and not media_count
    url = None
    if content_url and not is_thread:
        url = "url:" + hashlib.sha256(_normalise_url(content_url).encode()).hexdigest()
    if content_id:
        item = "content:" + hashlib.sha256(content_id.encode()).hexdigest()
    else:
        item = url or f"case:{case_id}"
    return item, url


def upgrade():
    with op.batch_alter_table("external_reports") as batch:
        batch.add_column(sa.Column("url_key", sa.String(length=80), nullable=True))
        batch.create_index("ix_external_reports_url_key", ["url_key"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.agency_id, r.live, c.id, c.content_id, c.content_url, c.thread, "
            "(SELECT count(*) FROM media_files m WHERE m.case_id = c.id) "
            "FROM external_reports r JOIN cases c ON c.id = r.case_id ORDER BY r.id"
        )
    ).all()
    # Every row first gets a key of its own, so that no update below collides with an old key on its way out.
    conn.execute(sa.text("UPDATE external_reports SET fingerprint = 'migrating:' || id"))
    taken = set()
    for report_id, agency_id, live, case_id, content_id, content_url, thread, media_count in rows:
        if isinstance(thread, str):
            thread = json.loads(thread)
        item, url = _keys(case_id, content_id, content_url, thread, media_count)
        if live and (agency_id, item) in taken:
            item = f"case:{case_id}"
            if (agency_id, item) in taken:  # a second live report of one case: keep them apart as before
                item = f"report:{report_id}"
        if live:
            taken.add((agency_id, item))
        conn.execute(
            sa.text("UPDATE external_reports SET fingerprint = :item, url_key = :url WHERE id = :id"),
            {"item": item, "url": url, "id": report_id},
        )


def downgrade():
    # The byte keys cannot be told apart from the rows any more; a downgrade keeps the new keys, which the old
    # code treats as opaque strings (its own lookups by bytes and URL still find every report).
    with op.batch_alter_table("external_reports") as batch:
        batch.drop_index("ix_external_reports_url_key")
        batch.drop_column("url_key")
