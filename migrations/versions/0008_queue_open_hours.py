"""Open cases per queue by the hour they were reported in: the queues page's past-SLA count from these rows

Revision ID: 0008_queue_open_hours
Revises: 0007_merge_features
"""

from collections import Counter
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0008_queue_open_hours"
down_revision = "0007_merge_features"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "queue_open_hours",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name="fk_queue_open_hours_queue_id_queues", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("queue_id", "hour", name="pk_queue_open_hours"),
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO queue_open_hours (queue_id, hour, open) "
                "SELECT queue_id, date_trunc('hour', reported_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
                "count(*) "
                "FROM cases WHERE status = 'open' GROUP BY 1, 2"
            )
        )
        return
    # SQLite keeps naive UTC datetimes as text: bucketed in Python, written back as the app writes them.
    hours: Counter = Counter()
    for queue_id, reported_at in conn.execute(
        sa.select(sa.column("queue_id"), sa.column("reported_at", sa.DateTime()))
        .select_from(sa.table("cases"))
        .where(sa.column("status") == "open")
    ):
        moment = reported_at.astimezone(UTC).replace(tzinfo=None) if reported_at.tzinfo else reported_at
        hours[(queue_id, moment.replace(minute=0, second=0, microsecond=0))] += 1
    table = sa.table(
        "queue_open_hours", sa.column("queue_id"), sa.column("hour", sa.DateTime()), sa.column("open")
    )
    rows = [{"queue_id": q, "hour": h, "open": n} for (q, h), n in hours.items()]
    for start in range(0, len(rows), 1000):
        conn.execute(table.insert(), rows[start : start + 1000])


def downgrade():
    op.drop_table("queue_open_hours")
