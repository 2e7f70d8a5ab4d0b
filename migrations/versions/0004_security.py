"""users.session_version (sign-out ends every session); media_files.original_name as long as NCMEC allows

Revision ID: 0004_security
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_security"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.alter_column(
            "original_name", existing_type=sa.String(length=255), type_=sa.String(length=2056), existing_nullable=False
        )


def downgrade():
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.alter_column(
            "original_name", existing_type=sa.String(length=2056), type_=sa.String(length=255), existing_nullable=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
