"""cybertip fields: what the platform knows about the user and each file, law-enforcement requests (issue 26)

Revision ID: 0013_cybertip_fields
Revises: 0012_audit_log

- reported_users.details: the person (names, phones, emails, addresses, age, date of birth), device ids,
  estimated location, associated accounts, group, third-party user, all emails reported.
- cases.law_enforcement (agency, case number, officer) and cases.incident_time_description.
- media_files.details: the file's name at the platform, upload time and IP, location, public or not, device
  ids, metadata pairs; external_report_files.details: the same, frozen when a report is created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_cybertip_fields"
down_revision = "0012_audit_log"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reported_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("law_enforcement", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("incident_time_description", sa.Text(), server_default="", nullable=False)
        )
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.drop_column("details")
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.drop_column("details")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("incident_time_description")
        batch_op.drop_column("law_enforcement")
    with op.batch_alter_table("reported_users", schema=None) as batch_op:
        batch_op.drop_column("details")
