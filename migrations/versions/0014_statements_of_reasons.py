"""statements of reasons: the DSA Transparency Database as a second agency (issue 31)

Revision ID: 0014_statements_of_reasons
Revises: 0013_report_bundles

- sor_agency: the agency "EU DSA Transparency Database", pre-loaded and off (enabled false) until an admin
  configures it; the EU-27 as the countries whose content gets a statement.
- sor_environments: sandbox and production (base URL, encrypted token, paused by a 401/403).
- sor_policy_mappings, sor_action_mappings, sor_source_mappings: the admins' mapping (a source kind without
  a row reads as console/sor/mapping.py's default; policies and actions are the admins' to map).
- statements_of_reasons: one per decision (UNIQUE decision_id, UNIQUE puid).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_statements_of_reasons"
down_revision = "0013_report_bundles"
branch_labels = None
depends_on = None

EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()


def upgrade():
    agency = op.create_table(
        "sor_agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    environments = op.create_table(
        "sor_environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("token_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("paused_reason", sa.String(length=500), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_check_status", sa.String(length=30), nullable=False),
        sa.Column("last_check_message", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sor_policy_mappings",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("specifications", sa.JSON(), nullable=False),
        sa.Column("specification_other", sa.String(length=500), nullable=False),
        sa.Column("ground", sa.String(length=20), nullable=False),
        sa.Column("legal_ground", sa.String(length=500), nullable=False),
        sa.Column("clause", sa.String(length=500), nullable=False),
        sa.Column("explanation", sa.String(length=2000), nullable=False),
        sa.Column("content_types", sa.JSON(), nullable=False),
        sa.Column("content_type_other", sa.String(length=500), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("policy_id"),
    )
    op.create_table(
        "sor_action_mappings",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.JSON(), nullable=False),
        sa.Column("visibility_other", sa.String(length=500), nullable=False),
        sa.Column("account", sa.String(length=60), nullable=False),
        sa.Column("provision", sa.String(length=60), nullable=False),
        sa.Column("monetary", sa.String(length=60), nullable=False),
        sa.Column("monetary_other", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["webhook_actions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_table(
        "sor_source_mappings",
        sa.Column("source_kind", sa.String(length=30), nullable=False),
        sa.Column("source_type", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("source_kind"),
    )
    op.create_table(
        "statements_of_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("waiting_reason", sa.String(length=500), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("action_ids", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("decision_type", sa.String(length=20), nullable=False),
        sa.Column("ground", sa.String(length=60), nullable=False),
        sa.Column("automated_decision", sa.String(length=60), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=True),
        sa.Column("already_there", sa.Boolean(), nullable=False),
        sa.Column("unexpected_duplicate", sa.Boolean(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("refused_by", sa.String(length=20), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id"),
        sa.UniqueConstraint("puid"),
    )
    with op.batch_alter_table("statements_of_reasons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sor_state_env_due", ["state", "environment", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_sor_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_statements_of_reasons_case_id"), ["case_id"], unique=False)

    now = sa.func.current_timestamp()
    op.execute(
        agency.insert().values(
            id=1,
            name="EU DSA Transparency Database",
            enabled=False,
            environment="sandbox",
            countries=EU,
            updated_at=now,
        )
    )
    for name in ("sandbox", "production"):
        op.execute(
            environments.insert().values(
                name=name, base_url="", paused_reason="", last_check_status="", last_check_message=""
            )
        )


def downgrade():
    with op.batch_alter_table("statements_of_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statements_of_reasons_case_id"))
        batch_op.drop_index("ix_sor_created")
        batch_op.drop_index("ix_sor_state_env_due")
    op.drop_table("statements_of_reasons")
    op.drop_table("sor_source_mappings")
    op.drop_table("sor_action_mappings")
    op.drop_table("sor_policy_mappings")
    op.drop_table("sor_environments")
    op.drop_table("sor_agency")
