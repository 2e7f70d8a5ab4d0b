"""audit log: the hash chain becomes a transparency log (Merkle tree, signed checkpoints)

Revision ID: 0012_audit_log
Revises: 0011_webhooks

Every event gets its content hash (console/audit.py: the RFC 9162 leaf hash of its canonical bytes) and an
empty log index; the tree's nodes, the signed checkpoints and the verification runs get their tables; the
chain's tables go.

The chain is checked before it goes: every link's hash recomputed from its event (0006_evidence's frozen
`event_hash`), positions contiguous, the head where the chain ends, no event outside it. A broken chain stops
the upgrade with the first broken link named: converting would launder the tampering into the new log. After
looking (the chain's own `flask audit verify` on the previous version names it too), an operator who accepts
the log as it is upgrades with `flask db upgrade -x accept_broken_audit_chain=yes`.

The events are then *sealed by the first sealer run*, not by this migration: sealing signs a checkpoint, and
the signing key is the running console's (configuration, not the schema's business). The sealer takes them in
id order within a second of `rq cron` starting (`make run` starts it), or at once with `flask audit seal`. Until
then they are the unsealed tail, as any new event is for a second.

Downgrade rebuilds the chain from the events, in id order (0006's backfill), and drops the tree.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision = "0012_audit_log"
down_revision = "0011_webhooks"
branch_labels = None
depends_on = None

BATCH = 5000


def _chain_migration():
    """0006_evidence's module: the chain's frozen hash and its backfill (for the downgrade)."""
    path = Path(__file__).with_name("0006_evidence.py")
    spec = importlib.util.spec_from_file_location("migration_0006_evidence", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event_table(names):
    from console.timeutil import UTCDateTime

    types = {"at": UTCDateTime(), "details": sa.JSON(), "id": sa.BigInteger()}
    return sa.table("audit_events", *(sa.column(name, types.get(name)) for name in names))


def upgrade():
    _check_chain()
    # The chain's tables first: on SQLite, changing audit_events rebuilds it, which its links' keys would refuse.
    op.drop_table("audit_chain_verifications")
    op.drop_table("audit_chain_pending")
    op.drop_table("audit_chain_links")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
    _hash_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=False)
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        postgresql_where=sa.text("log_index IS NULL"),
        sqlite_where=sa.text("log_index IS NULL"),
    )
    op.create_index(
        "uq_audit_events_log_index",
        "audit_events",
        ["log_index"],
        unique=True,
        postgresql_where=sa.text("log_index IS NOT NULL"),
        sqlite_where=sa.text("log_index IS NOT NULL"),
    )
    op.create_table(
        "audit_log_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_audit_log_nodes")),
    )
    op.create_table(
        "audit_log_checkpoints",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_hash", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_audit_log_checkpoints_tree_size")),
    )
    op.create_table(
        "audit_log_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("events_checked", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints_checked", sa.BigInteger(), nullable=False),
        sa.Column("through_size", sa.BigInteger(), nullable=False),
        sa.Column("through_root", sa.String(length=64), nullable=False),
        sa.Column("broken_index", sa.BigInteger(), nullable=True),
        sa.Column("broken_event_id", sa.Integer(), nullable=True),
        sa.Column("problem", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_verifications")),
    )


def _accepted() -> bool:
    return context.get_x_argument(as_dictionary=True).get("accept_broken_audit_chain", "") == "yes"


def _check_chain():
    """Walk the old chain as its verify did; stop the upgrade at the first broken link (unless accepted)."""
    old = _chain_migration()
    conn = op.get_bind()
    events = _event_table(old.HASHED_FIELDS)
    links = sa.table(
        "audit_chain_links", sa.column("event_id"), sa.column("seq"), sa.column("prev_hash"), sa.column("hash")
    )
    columns = [links.c.seq, links.c.event_id, links.c.prev_hash, links.c.hash, events.c.id.label("present")]
    columns += [events.c[name].label(f"e_{name}") for name in old.HASHED_FIELDS]
    prev, expected, after, problem = old.GENESIS, 1, 0, None
    while problem is None:
        rows = conn.execute(
            sa.select(*columns)
            .select_from(links.outerjoin(events, events.c.id == links.c.event_id))
            .where(links.c.seq > after)
            .order_by(links.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            values = {name: getattr(row, f"e_{name}") for name in old.HASHED_FIELDS}
            if row.seq != expected:
                problem = f"position {expected} is missing (an event was deleted)"
            elif row.present is None:
                problem = f"event id {row.event_id} at position {row.seq} was deleted"
            elif row.prev_hash != prev or old.event_hash(values, row.seq, prev) != row.hash:
                problem = f"event id {row.event_id} at position {row.seq} does not match its link (edited)"
            if problem:
                break
            prev, expected = row.hash, expected + 1
        after = rows[-1].seq
    if problem is None:
        head = conn.execute(sa.text("SELECT seq, last_hash FROM audit_chain_head WHERE id = 1")).first()
        if head is not None and (head.seq != expected - 1 or (head.seq and head.last_hash != prev)):
            problem = f"the chain head says position {head.seq}, the chain ends at {expected - 1}"
    if problem is None:
        outside = conn.execute(
            sa.text(
                "SELECT min(id) FROM audit_events WHERE id NOT IN (SELECT event_id FROM audit_chain_links) "
                "AND id NOT IN (SELECT event_id FROM audit_chain_pending)"
            )
        ).scalar()
        if outside is not None:
            problem = f"event id {outside} is not in the chain (written around the console)"
    if problem and not _accepted():
        raise RuntimeError(
            f"The audit hash chain is broken: {problem}. The upgrade to the transparency log stops here so "
            "that the tampering is not sealed into the new log. Look first; to convert the log as it is, "
            "run `flask db upgrade -x accept_broken_audit_chain=yes`."
        )


def _hash_events():
    """Each event's content hash, as console/audit.py computes it for new events (so verify agrees), and its
    details rewritten as their canonical text (the same value: what verify splices into the event's bytes)."""
    from console.audit import HASHED_FIELDS, canonical_json, content_hash

    conn = op.get_bind()
    events = _event_table(("id", *HASHED_FIELDS))
    after = 0
    while True:
        rows = (
            conn.execute(sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(BATCH))
            .mappings()
            .all()
        )
        if not rows:
            break
        ids = [row["id"] for row in rows]
        hashes = [content_hash(row) for row in rows]
        details = [canonical_json(row["details"] if row["details"] is not None else {}) for row in rows]
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "UPDATE audit_events AS e SET content_hash = v.h, details = CAST(v.d AS json) "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:hs AS text[]), CAST(:ds AS text[])) AS v(id, h, d) "
                    "WHERE e.id = v.id"
                ),
                {"ids": ids, "hs": hashes, "ds": details},
            )
        else:
            conn.execute(
                sa.text("UPDATE audit_events SET content_hash = :h, details = :d WHERE id = :i"),
                [{"i": i, "h": h, "d": d} for i, h, d in zip(ids, hashes, details, strict=True)],
            )
        after = rows[-1]["id"]


def downgrade():
    op.drop_table("audit_log_verifications")
    op.drop_table("audit_log_checkpoints")
    op.drop_table("audit_log_nodes")
    op.drop_index("uq_audit_events_log_index", table_name="audit_events")
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("log_index")
        batch_op.drop_column("content_hash")
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
    _chain_migration()._link_existing_audit_events()
