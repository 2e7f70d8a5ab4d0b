"""The audit log is one hash chain: any edit or deletion in the database is found, and named, by verify."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from console import audit
from console.evidence import chain
from console.extensions import db
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def events(n: int, **details) -> list[int]:
    made = [audit.record("case_opened", "case", i, actor_label="api:test", n=i, **details) for i in range(n)]
    db.session.commit()
    return [e.id for e in made]


def sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()


def test_events_form_one_chain_that_verifies(ctx):
    ids = events(5)
    admin = factories.user("admin")
    audit.record(
        "signed_in", "user", admin.id, actor=admin, ip="203.0.113.1", nested={"a": [1, 2.5, None, "é"]}
    )
    db.session.commit()
    links = db.session.scalars(db.select(chain.AuditChainLink).order_by(chain.AuditChainLink.seq)).all()
    assert [link.event_id for link in links][:5] == ids and [link.seq for link in links] == list(range(1, 7))
    assert links[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(links, links[1:], strict=False))
    result = chain.verify()
    assert result.ok and result.events_checked == 6 and result.through_hash == links[-1].hash


def tamper(*statements: str) -> None:
    """Run statements as someone with direct access to the database would: foreign keys not enforced."""
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        import sqlite3

        raw = sqlite3.connect(db.engine.url.database)  # a plain connection: foreign keys are off
        try:
            for statement in statements:
                raw.execute(statement)
            raw.commit()
        finally:
            raw.close()
    else:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "'case_closed'"),
        ("actor_label", "'someone else'"),
        ("object_type", "'report'"),
        ("object_id", "'999'"),
        ("details", "'{\"n\": 7}'"),
        ("at", "'2020-01-01 00:00:00'"),
        ("id", "id + 1000"),
    ],
)
def test_editing_any_column_of_an_event_breaks_the_chain_at_that_event(ctx, column, value):
    ids = events(6)
    target = ids[3]
    edit = f"UPDATE audit_events SET {column} = {value} WHERE id = {target}"
    if column == "id":  # renumbered with its link, as someone covering their tracks would
        tamper(edit, f"UPDATE audit_chain_links SET event_id = event_id + 1000 WHERE event_id = {target}")
    else:
        tamper(edit)
    result = chain.verify()
    assert not result.ok
    assert result.broken_seq == 4 and result.through_seq == 3, result.summary
    assert result.broken_event_id == (target + 1000 if column == "id" else target)
    assert "does not match its hash" in result.problem


def test_deleting_an_event_breaks_the_chain_at_its_place(ctx):
    ids = events(6)
    sql("DELETE FROM audit_chain_links WHERE event_id = :id", id=ids[2])
    sql("DELETE FROM audit_events WHERE id = :id", id=ids[2])
    result = chain.verify()
    assert not result.ok and result.broken_seq == 3 and result.through_seq == 2
    assert "position 3 is missing" in result.problem


def test_deleting_an_event_but_not_its_link_names_the_event(ctx):
    ids = events(4)
    tamper(f"DELETE FROM audit_events WHERE id = {ids[1]}")
    result = chain.verify()
    assert not result.ok and result.broken_seq == 2 and result.broken_event_id == ids[1]
    assert "was deleted" in result.problem


def test_deleting_the_newest_events_is_found_by_the_head(ctx):
    ids = events(5)
    for event_id in ids[-2:]:
        sql("DELETE FROM audit_chain_links WHERE event_id = :id", id=event_id)
        sql("DELETE FROM audit_events WHERE id = :id", id=event_id)
    result = chain.verify()
    assert not result.ok and result.through_seq == 3 and "newest events were deleted" in result.problem


def test_an_event_written_around_the_console_is_not_in_the_chain(ctx):
    events(2)
    sql(
        "INSERT INTO audit_events (at, actor_label, action, object_type, object_id, details) "
        "VALUES (CURRENT_TIMESTAMP, 'intruder', 'nothing_happened', 'case', '1', '{}')"
    )
    result = chain.verify()
    assert not result.ok and "not in the chain" in result.problem


def test_a_link_rewritten_to_match_an_edit_breaks_the_next_link(ctx):
    ids = events(4)
    sql("UPDATE audit_events SET action = 'forged' WHERE id = :id", id=ids[1])
    row = db.session.execute(
        text("SELECT seq, prev_hash FROM audit_chain_links WHERE event_id = :id"), {"id": ids[1]}
    ).one()
    values = (
        db.session.execute(db.select(*chain._event_columns()).where(chain.AuditEvent.id == ids[1]))
        .mappings()
        .one()
    )
    sql(
        "UPDATE audit_chain_links SET hash = :h WHERE event_id = :id",
        h=chain.event_hash(values, row.seq, row.prev_hash),
        id=ids[1],
    )
    result = chain.verify()
    assert not result.ok and result.broken_seq == 3 and "previous event's hash" in result.problem


def test_events_undone_with_their_savepoint_are_not_linked(ctx):
    audit.record("kept", "case", 1, actor_label="t")
    try:
        with db.session.begin_nested():
            audit.record("undone", "case", 2, actor_label="t")
            db.session.flush()
            raise RuntimeError
    except RuntimeError:
        pass
    audit.record("kept_too", "case", 3, actor_label="t")
    db.session.commit()
    actions = db.session.scalars(
        db.select(chain.AuditEvent.action)
        .join(chain.AuditChainLink, chain.AuditChainLink.event_id == chain.AuditEvent.id)
        .order_by(chain.AuditChainLink.seq)
    ).all()
    assert actions == ["kept", "kept_too"] and chain.verify().ok


def test_rolled_back_events_leave_no_trace_in_the_chain(ctx):
    events(2)
    audit.record("never", "case", 1, actor_label="t")
    db.session.flush()
    db.session.rollback()
    events(1)
    assert chain.verify().ok


WRITERS, EACH = 20, 10


def test_concurrent_writers_keep_one_linear_chain(app):
    """20 threads, each its own connection and transactions, write at once: one chain, no fork, no gap."""
    with app.app_context():
        events(1)
    start = threading.Barrier(WRITERS)
    errors = []

    def writer(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                for i in range(EACH):
                    audit.record("concurrent", "case", f"{n}-{i}", actor_label=f"writer {n}")
                    if i % 3 == 0:
                        audit.record("concurrent_second", "case", f"{n}-{i}", actor_label=f"writer {n}")
                    db.session.commit()
            except Exception as e:  # pragma: no cover - reported below
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with app.app_context():
        expected = 1 + WRITERS * (EACH + len(range(0, EACH, 3)))
        links = db.session.scalars(db.select(chain.AuditChainLink).order_by(chain.AuditChainLink.seq)).all()
        assert [link.seq for link in links] == list(range(1, expected + 1))
        assert len({link.prev_hash for link in links}) == expected  # no two events after the same one
        result = chain.verify()
        assert result.ok and result.events_checked == expected, result.summary


def test_the_migration_links_existing_events_as_verify_reads_them(ctx, monkeypatch):
    """Events from before the chain: unlink everything, run the migration's backfill, and verify."""
    events(7, text="naïve ✓", number=1.5)
    sql("DELETE FROM audit_chain_links")
    sql("DELETE FROM audit_chain_head")
    spec = importlib.util.spec_from_file_location("m0006", ROOT / "migrations/versions/0006_evidence.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    class Op:
        @staticmethod
        def get_bind():
            return db.session.connection()

    monkeypatch.setattr(migration, "op", Op)
    migration.BATCH = 3
    migration._link_existing_audit_events()
    db.session.commit()
    result = chain.verify()
    assert result.ok and result.events_checked == 7
    events(1)  # and the console goes on from there
    assert chain.verify().ok


def test_flask_audit_verify_names_the_first_broken_link(ctx, runner):
    ids = events(3)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output and "3 events" in ok.output
    sql("UPDATE audit_events SET details = '{}' WHERE id = :id", id=ids[1])
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at position 2 (event id {ids[1]})" in broken.output


def test_the_audit_log_shows_how_far_the_chain_is_verified(ctx, client, auth):
    factories.user("admin", email="admin@example.org")
    events(3)
    chain.verify_and_record("cli")
    events(2)
    auth.login("admin@example.org")
    page = client.get("/settings/audit-log").text
    assert "Tamper-evident chain" in page and "through position 3" in page
    assert "newer events not verified yet" in page


def test_events_a_dead_linker_left_pending_are_linked_by_the_next_commit(ctx, monkeypatch):
    monkeypatch.setattr(chain, "link_pending", lambda *_a, **_kw: 0)  # the process died between the commits
    first = events(2)
    assert db.session.scalar(db.select(db.func.count()).select_from(chain.AuditChainPending)) == 2
    assert chain.verify().ok  # pending is not tampering: the events wait for their link
    monkeypatch.undo()
    events(1)
    linked = db.session.scalars(
        db.select(chain.AuditChainLink.event_id).order_by(chain.AuditChainLink.seq)
    ).all()
    assert linked[:2] == first and len(linked) == 3
    assert chain.verify().ok
