"""cases.ncmec_report_required: the queues page counts pending NCMEC reports through a partial index

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ncmec_report_required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_cases_ncmec_report_required",
            ["policy_id"],
            unique=False,
            sqlite_where=sa.text("ncmec_report_required"),
            postgresql_where=sa.text("ncmec_report_required"),
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_ncmec_report_required",
            sqlite_where=sa.text("ncmec_report_required"),
            postgresql_where=sa.text("ncmec_report_required"),
        )
        batch_op.drop_column("ncmec_report_required")
