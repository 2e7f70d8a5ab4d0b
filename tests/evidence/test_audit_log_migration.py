"""Migration 0012_audit_log converts a chained audit log: it checks the old chain, hashes every event, and
the first sealer run seals them; a broken chain stops the upgrade (unless accepted); downgrade rebuilds it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from console import audit, create_app
from console.evidence import logcheck, sealer
from console.extensions import db
from tests.conftest import ROOT, _config
from tests.databases import own_database

MIGRATIONS = str(ROOT / "migrations")


@pytest.fixture
def fresh(redis_url, tmp_path, monkeypatch):
    """An app on a database of its own, empty (no migration run yet)."""
    monkeypatch.setenv("CONSOLE_INSTANCE_PATH", str(tmp_path))
    with own_database(Path(tmp_path), "console_test_m12") as url:
        app = create_app(_config(url, redis_url, tmp_path))
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def migrate(revision: str, down: bool = False, **options) -> None:
    """What `flask db upgrade/downgrade` does, with nothing of this test's session left open to wait for."""
    db.session.remove()
    (downgrade if down else upgrade)(directory=MIGRATIONS, revision=revision, **options)


def _old_events(n: int) -> None:
    """Events as the console wrote them before the transparency log (at revision 0005: no chain yet)."""
    for i in range(n):
        db.session.execute(
            text(
                "INSERT INTO audit_events (at, actor_label, action, object_type, object_id, details) "
                "VALUES (:at, 'api:old', 'case_opened', 'case', :oid, :details)"
            ),
            {
                "at": f"2026-11-0{1 + i % 9} 10:00:00.{i:06d}",
                "oid": str(i),
                "details": f'{{"n": {i}, "t": "é"}}',
            },
        )
    db.session.commit()


def test_a_chained_log_is_converted_sealed_by_the_first_run_and_verifies(fresh):
    with fresh.app_context():
        migrate("0005")
        _old_events(7)
        migrate("0008_queue_open_hours")  # 0006 links them into the chain
        migrate("heads")
        rows = db.session.execute(
            text("SELECT id, content_hash, log_index FROM audit_events ORDER BY id")
        ).all()
        assert len(rows) == 7 and all(r.log_index is None for r in rows)
        assert logcheck.tail().count == 7  # the unsealed tail, until the first sealer run
        assert sealer.seal() == 7
        result = logcheck.verify()
        assert result.ok and result.events_checked == 7, result.summary
        audit.record("after_upgrade", "case", 1, actor_label="t")
        db.session.commit()
        sealer.seal()
        assert logcheck.verify().ok

        migrate("0008_queue_open_hours", down=True)
        linked = db.session.execute(text("SELECT count(*), max(seq) FROM audit_chain_links")).one()
        head = db.session.execute(text("SELECT seq FROM audit_chain_head")).scalar()
        assert tuple(linked) == (8, 8) and head == 8
        migrate("heads")  # the rebuilt chain checks out again
        assert sealer.seal() == 8 and logcheck.verify().ok


def test_a_broken_chain_stops_the_upgrade_naming_the_event_unless_accepted(fresh, caplog):
    with fresh.app_context():
        migrate("0005")
        _old_events(5)
        migrate("0008_queue_open_hours")
        edited = db.session.execute(text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 2")).scalar()
        db.session.execute(text("UPDATE audit_events SET details = '{}' WHERE id = :id"), {"id": edited})
        db.session.commit()
        with pytest.raises(SystemExit):  # what `flask db upgrade` does with the migration's error
            migrate("heads")
        assert f"event id {edited} at position 3 does not match its link (edited)" in caplog.text
        assert "accept_broken_audit_chain=yes" in caplog.text
        db.session.rollback()
        assert db.session.execute(text("SELECT count(*) FROM audit_chain_links")).scalar() == 5  # untouched
        migrate("heads", x_arg=["accept_broken_audit_chain=yes"])
        assert sealer.seal() == 5 and logcheck.verify().ok  # accepted as it is, from here on sealed
