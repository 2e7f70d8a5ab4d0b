"""evidence storage: NCMEC's replies kept as received (issue 28)

Revision ID: 0017_evidence_storage
Revises: 0014_statements_of_reasons

- ncmec_replies: the body of every reply of submit, upload, fileinfo, finish and retract exactly as received,
  by NCMEC's report id: the law-enforcement package carries them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_evidence_storage"
down_revision = "0014_statements_of_reasons"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ncmec_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ncmec_report_id", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ncmec_replies")),
    )
    with op.batch_alter_table("ncmec_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ncmec_replies_ncmec_report_id"), ["ncmec_report_id"], unique=False)


def downgrade():
    with op.batch_alter_table("ncmec_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ncmec_replies_ncmec_report_id"))
    op.drop_table("ncmec_replies")
