"""reviewer: claims (a lease per case), escalation to a colleague, priority and SLA per queue, draft notes

Revision ID: 0006_reviewer
Revises: 0005

- cases: who holds the case and until when (claimed_by_id, claimed_at, claim_expires_at, claim_token), who it
  was escalated to (assigned_to_id), how many people reported it (report_count) and its priority rank
  (console/cases/priority.py; 0 is reviewed first). Existing cases get their rank from their source and AI
  confidence, in SQL, the same figure the console computes (one report each).
- indexes: a priority-ordered queue page, the live claims and the assignments (partial: few rows), and the
  reported user's cases newest first (replaces the single-column index on reported_user_id).
- queues: the SLA target in minutes (24 h) and the order cases are handed out in ("oldest" or "priority").
- case_drafts: a moderator's unfinished note on a case.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reviewer"
down_revision = "0005"
branch_labels = None
depends_on = None

# console/cases/priority.py, as SQL: 100 − (source weight + truncated AI confidence × 30).
SOURCE_WEIGHT = {
    "lea_request": 40,
    "trusted_flagger": 30,
    "ai_review": 20,
    "proactive": 15,
    "user_report": 10,
}


def _rank_sql(dialect: str) -> str:
    weight = " ".join(f"WHEN '{kind}' THEN {points}" for kind, points in SOURCE_WEIGHT.items())
    # CAST rounds a float on PostgreSQL and truncates on SQLite: FLOOR makes both truncate (confidence ≥ 0).
    ai = (
        "FLOOR(ai_confidence * 30)::integer"
        if dialect == "postgresql"
        else "CAST(ai_confidence * 30 AS INTEGER)"
    )
    return f"100 - (CASE source_kind {weight} ELSE 10 END + COALESCE({ai}, 0))"


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_count", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("priority_rank", sa.Integer(), server_default="100", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_claimed_by_id_users"), "users", ["claimed_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_assigned_to_id_users"), "users", ["assigned_to_id"], ["id"]
        )
    op.execute(sa.text(f"UPDATE cases SET priority_rank = {_rank_sql(op.get_bind().dialect.name)}"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_reported_user_id"))
        batch_op.create_index("ix_cases_reported_user", ["reported_user_id", "id"], unique=False)
        batch_op.create_index(
            "ix_cases_queue_status_priority",
            ["queue_id", "status", "priority_rank", "reported_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_claimed_by",
            ["claimed_by_id"],
            unique=False,
            sqlite_where=sa.text("claimed_by_id IS NOT NULL"),
            postgresql_where=sa.text("claimed_by_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_cases_assigned_to",
            ["assigned_to_id", "reported_at", "id"],
            unique=False,
            sqlite_where=sa.text("assigned_to_id IS NOT NULL"),
            postgresql_where=sa.text("assigned_to_id IS NOT NULL"),
        )

    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_minutes", sa.Integer(), server_default="1440", nullable=False))
        batch_op.add_column(
            sa.Column("review_order", sa.String(length=20), server_default="oldest", nullable=False)
        )

    op.create_table(
        "case_drafts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_drafts_case_id_cases")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_case_drafts_user_id_users")),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_case_drafts")),
    )


def downgrade():
    op.drop_table("case_drafts")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("review_order")
        batch_op.drop_column("sla_minutes")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_assigned_to",
            sqlite_where=sa.text("assigned_to_id IS NOT NULL"),
            postgresql_where=sa.text("assigned_to_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_cases_claimed_by",
            sqlite_where=sa.text("claimed_by_id IS NOT NULL"),
            postgresql_where=sa.text("claimed_by_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_cases_queue_status_priority")
        batch_op.drop_index("ix_cases_reported_user")
        batch_op.create_index(batch_op.f("ix_cases_reported_user_id"), ["reported_user_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("fk_cases_assigned_to_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cases_claimed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("priority_rank")
        batch_op.drop_column("report_count")
        batch_op.drop_column("assigned_to_id")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("claim_expires_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by_id")
