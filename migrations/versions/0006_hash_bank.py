"""hash bank: hashes of reported content (by source), the PDQ feed, media hashes, and cases that matched

Revision ID: 0006_hash_bank
Revises: 0005

Finished reports from before this revision are banked by `flask hashbank backfill` (the sweep looks back a
week only), not here: banking reads the media hashes, which exist only for files ingested from now on, and a
migration should not take minutes on a large database.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_hash_bank"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hash_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("cybertip_id", sa.String(length=20), nullable=True),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"], name=op.f("fk_hash_sources_imported_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["external_reports.id"], name=op.f("fk_hash_sources_report_id_external_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_sources")),
        sa.UniqueConstraint("report_id", name=op.f("uq_hash_sources_report_id")),
    )
    op.create_table(
        "hash_bank_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("cybertip_id", sa.String(length=20), nullable=True),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_files.id"], name=op.f("fk_hash_bank_entries_media_id_media_files")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["hash_sources.id"], name=op.f("fk_hash_bank_entries_source_id_hash_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_bank_entries")),
        sa.UniqueConstraint("source_id", "algorithm", "value", name="uq_hash_bank_entries_source_hash"),
    )
    op.create_index("ix_hash_bank_entries_lookup", "hash_bank_entries", ["algorithm", "value"], unique=False)
    op.create_table(
        "hash_bank_pdq_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["hash_bank_entries.id"],
            name=op.f("fk_hash_bank_pdq_feed_entry_id_hash_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_bank_pdq_feed")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_hash_bank_pdq_feed_entry_id")),
    )
    op.create_table(
        "media_hashes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("computed_by", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_files.id"], name=op.f("fk_media_hashes_media_id_media_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_hashes")),
        sa.UniqueConstraint("media_id", "algorithm", "computed_by", name="uq_media_hashes_media_algorithm"),
    )
    op.create_table(
        "hash_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("cybertip_id", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_hash_matches_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["hash_bank_entries.id"], name=op.f("fk_hash_matches_entry_id_hash_bank_entries")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_files.id"], name=op.f("fk_hash_matches_media_id_media_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_matches")),
        sa.UniqueConstraint("media_id", "entry_id", name="uq_hash_matches_media_entry"),
    )
    op.create_index(op.f("ix_hash_matches_case_id"), "hash_matches", ["case_id"], unique=False)
    op.create_index("ix_hash_matches_created", "hash_matches", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_hash_matches_created", table_name="hash_matches")
    op.drop_index(op.f("ix_hash_matches_case_id"), table_name="hash_matches")
    op.drop_table("hash_matches")
    op.drop_table("media_hashes")
    op.drop_table("hash_bank_pdq_feed")
    op.drop_index("ix_hash_bank_entries_lookup", table_name="hash_bank_entries")
    op.drop_table("hash_bank_entries")
    op.drop_table("hash_sources")
