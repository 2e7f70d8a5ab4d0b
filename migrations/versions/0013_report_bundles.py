"""report bundles: a report holds one or more contents; each content is in one live report (issue 26)

Revision ID: 0013_report_bundles
Revises: 0013_cybertip_fields

- report_contents: one row per content of a report (agency, case, content item, URL key, live, position), with
  the partial UNIQUE index on (agency, item) over live rows that was external_reports' (which it replaces).
  Every existing report becomes a bundle of one, keyed as 0009 keyed it.
- external_reports.gathering_until / gathering_key: a report a rule's window still gathers contents into.
- reporting_rules.bundle_window_minutes: the window (off when null).
- external_report_files.case_id: the content a file belongs to (null in reports from before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_report_bundles"
down_revision = "0013_cybertip_fields"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("url_key", sa.String(length=80), nullable=True),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_report_contents_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_report_contents_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["external_reports.id"], name=op.f("fk_report_contents_report_id_external_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_contents")),
    )
    with op.batch_alter_table("report_contents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_contents_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_contents_url_key"), ["url_key"], unique=False)
        batch_op.create_index("ix_report_contents_report_case", ["report_id", "case_id"], unique=True)
        batch_op.create_index(
            "uq_report_contents_live_item",
            ["agency_id", "item"],
            unique=True,
            sqlite_where=sa.text("live"),
            postgresql_where=sa.text("live"),
        )
    # Every report so far is about one content: a bundle of one, under the key it has (0009's).
    op.execute(
        "INSERT INTO report_contents (report_id, agency_id, case_id, item, url_key, live, position) "
        "SELECT id, agency_id, case_id, fingerprint, url_key, live, 0 FROM external_reports ORDER BY id"
    )
    with op.batch_alter_table("external_reports", schema=None) as batch_op:
        batch_op.drop_index("uq_external_reports_live_fingerprint")
        batch_op.add_column(sa.Column("gathering_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("gathering_key", sa.String(length=80), nullable=True))
        # An index, not a constraint: on SQLite a constraint would rebuild the table, which rows of other
        # tables refer to (evidence, the hash bank, report_contents).
        batch_op.create_index("uq_external_reports_gathering_key", ["gathering_key"], unique=True)
    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_window_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_external_report_files_case_id_cases"), "cases", ["case_id"], ["id"]
        )


def downgrade():
    # A report holding several contents cannot be told apart any more by the old index, which allows one
    # live report per item: the first content keeps its report's key (external_reports.fingerprint), and the
    # other contents of a bundle are simply no longer guarded by the old schema.
    op.drop_table("report_contents")
    with op.batch_alter_table("external_report_files", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_external_report_files_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("reporting_rules", schema=None) as batch_op:
        batch_op.drop_column("bundle_window_minutes")
    with op.batch_alter_table("external_reports", schema=None) as batch_op:
        batch_op.drop_index("uq_external_reports_gathering_key")
        batch_op.drop_column("gathering_key")
        batch_op.drop_column("gathering_until")
        batch_op.create_index(
            "uq_external_reports_live_fingerprint",
            ["agency_id", "fingerprint"],
            unique=True,
            sqlite_where=sa.text("live"),
            postgresql_where=sa.text("live"),
        )
