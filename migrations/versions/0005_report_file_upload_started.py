"""external_report_files.upload_started_at: an upload sent but not answered means its outcome is unknown

Revision ID: 0005
Revises: 0004_security
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.drop_column("upload_started_at")
