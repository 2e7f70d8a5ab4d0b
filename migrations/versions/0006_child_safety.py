"""child safety: the permission and teams, marked queues and policies, exposure budgets, viewing preferences

Revision ID: 0006_child_safety
Revises: 0005

On an existing console: admins get the permission (so that they can grant it), policies that carry an NCMEC
incident type and the review queues of reporting rules are marked child-safety. Moderators get nothing: an
admin grants the permission to the people whose work needs it (Settings → Child safety). Reveals recorded
before this migration are not counted as child-safety exposure (it was not known which were).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_child_safety"
down_revision = "0005"
branch_labels = None
depends_on = None

VIEWING = (
    ("blur_px", sa.Integer(), "14"),
    ("grayscale", sa.Boolean(), sa.true()),
    ("reblur_seconds", sa.Integer(), "0"),
    ("reblur_on_leave", sa.Boolean(), sa.false()),
    ("video_muted", sa.Boolean(), sa.true()),
    ("video_paused", sa.Boolean(), sa.true()),
)


def _viewing_columns():
    return [sa.Column(name, kind, server_default=default, nullable=False) for name, kind, default in VIEWING]


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("child_safety_access", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("team", sa.String(length=80), server_default="", nullable=False))
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("child_safety", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("child_safety", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("media_views", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("child_safety", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_media_views_user_viewed", ["user_id", "viewed_at"], unique=False)

    op.create_table(
        "viewing_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_viewing_columns(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_viewing_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_viewing_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_viewing_preferences_user_id")),
    )
    op.create_table(
        "care_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("support_url", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("support_label", sa.String(length=200), server_default="", nullable=False),
        sa.Column("escalation_queue_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_viewing_columns(),
        sa.ForeignKeyConstraint(
            ["escalation_queue_id"], ["queues.id"], name=op.f("fk_care_settings_escalation_queue_id_queues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_settings")),
    )
    op.create_table(
        "exposure_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_exposure_breaks_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_breaks")),
    )
    op.create_index(
        "ix_exposure_breaks_user_started", "exposure_breaks", ["user_id", "started_at"], unique=False
    )

    op.execute("UPDATE users SET child_safety_access = TRUE WHERE role = 'admin'")
    op.execute("UPDATE policies SET child_safety = TRUE WHERE ncmec_incident_type IS NOT NULL")
    op.execute(
        "UPDATE queues SET child_safety = TRUE WHERE id IN "
        "(SELECT review_queue_id FROM reporting_rules WHERE review_queue_id IS NOT NULL)"
    )


def downgrade():
    op.drop_index("ix_exposure_breaks_user_started", table_name="exposure_breaks")
    op.drop_table("exposure_breaks")
    op.drop_table("care_settings")
    op.drop_table("viewing_preferences")
    with op.batch_alter_table("media_views", schema=None) as batch_op:
        batch_op.drop_index("ix_media_views_user_viewed")
        batch_op.drop_column("child_safety")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("child_safety")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("child_safety")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("team")
        batch_op.drop_column("child_safety_access")
