"""index external_report_files.sha256: the same-content check on every case page

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_report_files_sha256"), ["sha256"], unique=False)


def downgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_report_files_sha256"))
