"""cybertip details: reporter legal details, internet details by kind, escalation, annotations, threads

Revision ID: 0006_cybertip_details
Revises: 0005

- agencies: the company's legal details (companyTemplate, termsOfService, legalURL) and a law-enforcement
  contact (contactPerson).
- reporting_rules: the reporting person's phone; automatic escalation (a confidence, policies, the reason).
- policies: the report annotations a case under the policy preselects.
- cases: the content kind (and the platform's own content type), the kind's fields, a message thread, the
  intended recipient and a known victim; content_type_kinds maps platform types to kinds.
- external_report_files: a generated file (a thread's transcript) has no media row: media_id may be NULL,
  storage_key names the stored bytes; relevance (Reported / Supplemental Reported); extra hashes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_cybertip_details"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_template", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("terms_of_service", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("legal_url", sa.String(length=2083), server_default="", nullable=False))
        for name, length in (("first_name", 100), ("last_name", 100), ("email", 254), ("phone", 50)):
            batch_op.add_column(
                sa.Column(f"le_contact_{name}", sa.String(length=length), server_default="", nullable=False)
            )

    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_phone", sa.String(length=50), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("escalate_min_confidence", sa.Double(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_reason", sa.String(length=3000), server_default="", nullable=False)
        )
    op.create_table(
        "reporting_rule_escalation_policies",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_reporting_rule_escalation_policies_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reporting_rules.id"],
            name=op.f("fk_reporting_rule_escalation_policies_rule_id_reporting_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "policy_id", name=op.f("pk_reporting_rule_escalation_policies")),
    )

    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ncmec_report_annotations", sa.JSON(), nullable=True))

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("platform_content_type", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("incident_details", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("thread", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("intended_recipient", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("victim", sa.JSON(), nullable=True))
    op.create_table(
        "content_type_kinds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_type", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_type_kinds")),
        sa.UniqueConstraint("platform_type", name=op.f("uq_content_type_kinds_platform_type")),
    )

    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.alter_column("media_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("storage_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("relevance", sa.String(length=30), server_default="Reported", nullable=False)
        )
        batch_op.add_column(sa.Column("hashes", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.drop_column("hashes")
        batch_op.drop_column("relevance")
        batch_op.drop_column("storage_key")
        batch_op.alter_column("media_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("content_type_kinds")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in ("victim", "intended_recipient", "thread", "incident_details"):
            batch_op.drop_column(name)
        batch_op.drop_column("platform_content_type")
        batch_op.drop_column("content_kind")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("ncmec_report_annotations")
    op.drop_table("reporting_rule_escalation_policies")
    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.drop_column("escalation_reason")
        batch_op.drop_column("escalate_min_confidence")
        batch_op.drop_column("contact_phone")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        for name in ("phone", "email", "last_name", "first_name"):
            batch_op.drop_column(f"le_contact_{name}")
        batch_op.drop_column("legal_url")
        batch_op.drop_column("terms_of_service")
        batch_op.drop_column("company_template")
