"""Webhooks to the platform: endpoints, actions (and each policy's defaults), events, attempts, allowed hosts;
a rule's enrichment and preservation endpoints; the account status the platform acknowledged; the platform's
acknowledgement of a preservation request on the evidence record

Revision ID: 0011_webhooks
Revises: 0010_security_care
"""

import sqlalchemy as sa
from alembic import op


revision = "0011_webhooks"
down_revision = "0010_security_care"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(500), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
        sa.UniqueConstraint("name", name="uq_webhook_endpoints_name"),
    )
    op.create_table(
        "webhook_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("skippable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["webhook_endpoints.id"], name="fk_webhook_actions_endpoint_id_webhook_endpoints"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_actions"),
        sa.UniqueConstraint("name", name="uq_webhook_actions_name"),
    )
    op.create_index("ix_webhook_actions_endpoint_id", "webhook_actions", ["endpoint_id"])
    op.create_table(
        "webhook_policy_actions",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name="fk_webhook_policy_actions_policy_id_policies",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["webhook_actions.id"],
            name="fk_webhook_policy_actions_action_id_webhook_actions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy_id", "action_id", name="pk_webhook_policy_actions"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("reported_user_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["webhook_endpoints.id"], name="fk_webhook_events_endpoint_id_webhook_endpoints"
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["webhook_actions.id"],
            name="fk_webhook_events_action_id_webhook_actions",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_webhook_events_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["external_reports.id"], name="fk_webhook_events_report_id_external_reports"
        ),
        sa.ForeignKeyConstraint(
            ["reported_user_id"],
            ["reported_users.id"],
            name="fk_webhook_events_reported_user_id_reported_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("message_id", name="uq_webhook_events_message_id"),
    )
    op.create_index("ix_webhook_events_state_due", "webhook_events", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_events_endpoint_created", "webhook_events", ["endpoint_id", "created_at"])
    op.create_index("ix_webhook_events_case_id", "webhook_events", ["case_id"])
    op.create_index("ix_webhook_events_report_id", "webhook_events", ["report_id"])
    op.create_index("ix_webhook_events_reported_user_id", "webhook_events", ["reported_user_id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name="fk_webhook_attempts_event_id_webhook_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index("ix_webhook_attempts_event_id", "webhook_attempts", ["event_id"])
    op.create_table(
        "webhook_allowed_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_allowed_hosts"),
        sa.UniqueConstraint("host", name="uq_webhook_allowed_hosts_host"),
    )
    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrichment_endpoint_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("preservation_endpoint_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_reporting_rules_enrichment_endpoint_id_webhook_endpoints",
            "webhook_endpoints",
            ["enrichment_endpoint_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_reporting_rules_preservation_endpoint_id_webhook_endpoints",
            "webhook_endpoints",
            ["preservation_endpoint_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("reported_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_status", sa.String(20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("account_status_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform_preservation", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("platform_preservation_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.drop_column("platform_preservation_at")
        batch_op.drop_column("platform_preservation")
    with op.batch_alter_table("reported_users", schema=None) as batch_op:
        batch_op.drop_column("account_status_at")
        batch_op.drop_column("account_status")
    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_reporting_rules_preservation_endpoint_id_webhook_endpoints", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_reporting_rules_enrichment_endpoint_id_webhook_endpoints", type_="foreignkey"
        )
        batch_op.drop_column("preservation_endpoint_id")
        batch_op.drop_column("enrichment_endpoint_id")
    op.drop_table("webhook_allowed_hosts")
    op.drop_index("ix_webhook_attempts_event_id", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    for name in (
        "ix_webhook_events_reported_user_id",
        "ix_webhook_events_report_id",
        "ix_webhook_events_case_id",
        "ix_webhook_events_endpoint_created",
        "ix_webhook_events_state_due",
    ):
        op.drop_index(name, table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_table("webhook_policy_actions")
    op.drop_index("ix_webhook_actions_endpoint_id", table_name="webhook_actions")
    op.drop_table("webhook_actions")
    op.drop_table("webhook_endpoints")
