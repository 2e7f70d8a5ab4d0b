"""Indexes to count the child-safety cases of ordinary queues (counts equal to the rows shown)

For people without the child-safety permission, the queues page subtracts the open child-safety cases of each
ordinary queue from its counters, counted on the indexes of the three policy columns.

Revision ID: 0010_security_care
Revises: 0009_content_item
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_security_care"
down_revision = "0009_content_item"
branch_labels = None
depends_on = None

# (queue, status, policy) is indexed already (ix_cases_queue_status_policy_reported); these are the other two
# policy columns a case can be child-safety material by. Partial: most cases carry neither.
INDEXES = {
    "ix_cases_queue_status_reported_policy": "reported_policy_id",
    "ix_cases_queue_status_ai_policy": "ai_policy_id",
}


def upgrade():
    for name, column in INDEXES.items():
        op.create_index(
            name,
            "cases",
            ["queue_id", "status", column],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="cases")
