"""job split: a finished report's follow-ups are rows, each done by a job of its own (issue 27)

Revision ID: 0015_job_split
Revises: 0017_evidence_storage

- report_follow_ups: one row per (report, job) written in the transaction that records the finish —
  preserving the evidence, banking the hashes, asking the platform to preserve the account — "pending" until
  its job has done it (console/reporting/follow_ups.py); the partial index on pending rows is the sweep's.
  Reports finished before this revision have none: the evidence and hash bank sweeps already cover them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_job_split"
down_revision = "0017_evidence_storage"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_follow_ups",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["external_reports.id"],
            name=op.f("fk_report_follow_ups_report_id_external_reports"),
        ),
        sa.PrimaryKeyConstraint("report_id", "job", name=op.f("pk_report_follow_ups")),
    )
    with op.batch_alter_table("report_follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_follow_ups_pending",
            ["updated_at"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade():
    op.drop_table("report_follow_ups")
