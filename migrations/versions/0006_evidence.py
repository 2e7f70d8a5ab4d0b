"""evidence: preserved records of finished reports, legal holds; the audit log's hash chain (backfilled)

Revision ID: 0006_evidence
Revises: 0005

The audit events that exist are linked into the chain here, in id order, so the chain starts at the first
event ever recorded. The hash is the chain's own (`event_hash` below, frozen here when 0012_audit_log replaced
the chain by a Merkle tree: 0012 checks the chain with it before converting). Events are read and linked 5,000
at a time (a million events: a minute or two).

evidence_items are immutable: a trigger refuses any UPDATE (the app never issues one). Deletes stay possible
for operators (the purge itself keeps the rows and removes only the stored bytes).
"""

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0006_evidence"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 5000

# The chain's hash of one event, as console/evidence/chain.py computed it until 0012_audit_log.
GENESIS = "0" * 64
HASHED_FIELDS = ("id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "case_id", "details")


def _iso(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(values, seq, prev_hash):
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = _iso(content["at"])
    content["details"] = content["details"] if content["details"] is not None else {}
    content["seq"] = seq
    content["prev"] = prev_hash
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return hashlib.sha256(data).hexdigest()


def upgrade():
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_chain_links",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_audit_chain_links_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_chain_links")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_chain_links_seq")),
    )
    op.create_table(
        "audit_chain_pending",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_audit_chain_pending_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_chain_pending")),
    )
    op.create_table(
        "audit_chain_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("events_checked", sa.BigInteger(), nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("broken_seq", sa.BigInteger(), nullable=True),
        sa.Column("broken_event_id", sa.Integer(), nullable=True),
        sa.Column("problem", sa.String(length=2000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_verifications")),
    )
    op.create_table(
        "evidence_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reported_user_id", sa.Integer(), nullable=True),
        sa.Column("ncmec_report_id", sa.String(length=100), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preserve_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("finish_reply", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preserved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_records_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["external_reports.id"],
            name=op.f("fk_evidence_records_report_id_external_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_user_id"],
            ["reported_users.id"],
            name=op.f("fk_evidence_records_reported_user_id_reported_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_records")),
        sa.UniqueConstraint("report_id", name=op.f("uq_evidence_records_report_id")),
    )
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_records_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evidence_records_preserve_until"), ["preserve_until"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_records_reported_user_id"), ["reported_user_id"], unique=False
        )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("original_name", sa.String(length=2056), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["evidence_records.id"], name=op.f("fk_evidence_items_record_id_evidence_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("record_id", "name", name="uq_evidence_items_record_name"),
    )
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_items_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_sha256"), ["sha256"], unique=False)
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("reported_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("placed_by_id", sa.Integer(), nullable=True),
        sa.Column("placed_by_label", sa.String(length=120), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_by_label", sa.String(length=120), nullable=False),
        sa.Column("release_reason", sa.String(length=2000), nullable=False),
        sa.CheckConstraint(
            "(report_id IS NULL) <> (reported_user_id IS NULL)", name=op.f("ck_legal_holds_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"], ["users.id"], name=op.f("fk_legal_holds_placed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["users.id"], name=op.f("fk_legal_holds_released_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["external_reports.id"], name=op.f("fk_legal_holds_report_id_external_reports")
        ),
        sa.ForeignKeyConstraint(
            ["reported_user_id"],
            ["reported_users.id"],
            name=op.f("fk_legal_holds_reported_user_id_reported_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_report_id"), ["report_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_legal_holds_reported_user_id"), ["reported_user_id"], unique=False
        )

    _immutable_items()
    _link_existing_audit_events()


def _immutable_items():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION evidence_items_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'evidence items are immutable'; END; $$"
        )
        op.execute(
            "CREATE TRIGGER evidence_items_no_update BEFORE UPDATE ON evidence_items "
            "FOR EACH ROW EXECUTE FUNCTION evidence_items_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER evidence_items_no_update BEFORE UPDATE ON evidence_items "
            "BEGIN SELECT RAISE(ABORT, 'evidence items are immutable'); END"
        )


def _link_existing_audit_events():
    from console.timeutil import UTCDateTime

    conn = op.get_bind()
    types = {"at": UTCDateTime(), "details": sa.JSON()}
    events = sa.table("audit_events", *(sa.column(name, types.get(name)) for name in HASHED_FIELDS))
    links = sa.table(
        "audit_chain_links",
        sa.column("event_id"),
        sa.column("seq"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    seq, prev, last_id, after = 0, GENESIS, None, 0
    while True:
        rows = (
            conn.execute(sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(BATCH))
            .mappings()
            .all()
        )
        if not rows:
            break
        batch = []
        for row in rows:
            seq += 1
            digest = event_hash(row, seq, prev)
            batch.append({"event_id": row["id"], "seq": seq, "prev_hash": prev, "hash": digest})
            prev, last_id = digest, row["id"]
        conn.execute(links.insert(), batch)
        after = rows[-1]["id"]
    head = sa.table(
        "audit_chain_head",
        sa.column("id"),
        sa.column("seq"),
        sa.column("last_hash"),
        sa.column("last_event_id"),
    )
    conn.execute(head.insert().values(id=1, seq=seq, last_hash=prev, last_event_id=last_id))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_items_no_update ON evidence_items")
        op.execute("DROP FUNCTION IF EXISTS evidence_items_immutable()")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_reported_user_id"))
        batch_op.drop_index(batch_op.f("ix_legal_holds_report_id"))
    op.drop_table("legal_holds")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_items_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_record_id"))
    op.drop_table("evidence_items")
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_records_reported_user_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_records_preserve_until"))
        batch_op.drop_index(batch_op.f("ix_evidence_records_case_id"))
    op.drop_table("evidence_records")
    op.drop_table("audit_chain_verifications")
    op.drop_table("audit_chain_pending")
    op.drop_table("audit_chain_links")
    op.drop_table("audit_chain_head")
