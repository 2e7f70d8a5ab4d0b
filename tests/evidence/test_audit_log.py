"""The audit log is a transparency log: any edit, deletion, move or forgery in the database is found, named.

Recording is one INSERT; the sealer puts events into the Merkle tree and signs checkpoints; `verify` checks
every event against them. The seven kinds of tampering an outside check tried (edit details, edit actor,
delete an event, delete its link, delete the newest, swap positions, swap contents) are each a test below,
with a forged checkpoint and a rewritten tree.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from console import audit
from console.evidence import logcheck, logstore, sealer, signer
from console.evidence.models import AuditCheckpoint, AuditLogNode
from console.extensions import db
from console.tlog import checkpoint, merkle, verify
from tests import factories


def events(n: int, **details) -> list[int]:
    made = [audit.record("case_opened", "case", i, actor_label="api:test", n=i, **details) for i in range(n)]
    db.session.commit()
    return [e.id for e in made]


def sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()


def tamper(*statements) -> None:
    """Run statements as someone with direct access to the database would: foreign keys not enforced.

    A statement is SQL text, or (SQL text, parameters)."""
    db.session.rollback()
    statements = [s if isinstance(s, tuple) else (s, {}) for s in statements]
    if db.engine.dialect.name == "sqlite":
        import sqlite3

        raw = sqlite3.connect(db.engine.url.database)  # a plain connection: foreign keys are off
        try:
            for statement, params in statements:
                raw.execute(
                    statement, {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
                )
            raw.commit()
        finally:
            raw.close()
    else:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement, params in statements:
            db.session.execute(
                text(statement), {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
            )
        db.session.commit()


def log_index(event_id: int) -> int:
    return db.session.scalar(select(audit.AuditEvent.log_index).where(audit.AuditEvent.id == event_id))


def broken(problem: str):
    result = logcheck.verify()
    assert not result.ok, result.summary
    assert problem in result.problem, result.summary
    return result


# --- recording and sealing ---------------------------------------------------------------------------------


def test_recording_an_event_is_one_insert_carrying_its_content_hash(ctx):
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    sa_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        recorded = audit.record("case_opened", "case", 7, actor_label="api:test", source="test", score=0.5)
        db.session.commit()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", seen)
    assert [s for s in statements if s not in {"BEGIN", "COMMIT"}] == ["INSERT"]  # nothing after the commit
    stored = db.session.execute(select(*logstore.event_columns(), logstore.EVENTS.c.content_hash)).one()
    assert stored.content_hash == merkle.leaf_hash(audit.canonical(stored._mapping)).hex()
    assert recorded.log_index is None  # the unsealed tail, until the sealer runs


@pytest.mark.parametrize(
    "action, obj_id, label, details",
    [
        ("case_opened", 7, "api:scanner", {"n": 1}),
        ('quote " and \\ backslash', "é ☃ \u2028", "tab\there", {"z": [1, 2.5, None, True], "a": {"é": "☃"}}),
        ("x", "", "", {}),
    ],
)
def test_the_bytes_verify_writes_from_stored_columns_are_the_bytes_hashed_at_insert(
    ctx, action, obj_id, label, details
):
    values = audit.values(action, "case", obj_id, actor_label=label, **details)
    values["actor_id"], values["case_id"] = 3, 12
    stored = [values[name] for name in audit.HASHED_FIELDS[:-1]] + [audit.canonical_json(values["details"])]
    assert audit.canonical_stored(*stored) == audit.canonical(values)


def test_sealed_events_are_leaves_under_a_signed_checkpoint_that_verifies(ctx):
    admin = factories.user("admin")
    ids = events(5, text="naïve ✓", nested={"a": [1, 2.5, None, "é"]})
    audit.record("signed_in", "user", admin.id, actor=admin, ip="203.0.113.1")
    db.session.commit()
    assert sealer.seal() == 6
    assert [log_index(i) for i in ids] == [0, 1, 2, 3, 4]
    head = logstore.latest_checkpoint()
    hashes = db.session.scalars(select(audit.AuditEvent.content_hash).order_by(audit.AuditEvent.log_index))
    assert head.tree_size == 6 and head.root == merkle.root_of([bytes.fromhex(h) for h in hashes])
    signed = checkpoint.open_note(head.note, signer.current().public_key)
    assert (signed.size, signed.root, signed.prev) == (6, head.root, None)
    result = logcheck.verify()
    assert result.ok and result.events_checked == 6 and result.checkpoints_checked == 1, result.summary
    events(2)
    assert sealer.seal() == 2 and sealer.seal() == 0  # nothing new: no empty checkpoint
    second = checkpoint.open_note(logstore.latest_checkpoint().note, signer.current().public_key)
    assert second.prev == signed.digest() and second.size == 8
    assert logcheck.verify().ok


def test_an_event_that_becomes_visible_late_is_sealed_at_the_end_not_skipped(ctx):
    """On PostgreSQL ids are numbered at INSERT, rows seen at COMMIT: a low id can show after higher ones."""
    events(3)
    sealer.seal()
    late = audit.AuditEvent(id=1_000_000, **audit.values("late", "case", 1, actor_label="t"))
    db.session.add(late)
    db.session.commit()
    sealer.seal()
    earlier = audit.AuditEvent(id=500_000, **audit.values("later_still", "case", 2, actor_label="t"))
    db.session.add(earlier)
    db.session.commit()
    sealer.seal()
    assert (log_index(1_000_000), log_index(500_000)) == (3, 4)  # positions in the order they were sealed
    assert logcheck.verify().ok


def test_an_event_committed_after_a_higher_id_on_postgresql_is_sealed_next(app):
    """Two real transactions: the lower id commits after the higher one was sealed."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite writes one transaction at a time: ids are seen in order")
        slow = db.engine.connect()
        transaction = slow.begin()
        slow.execute(
            audit.AuditEvent.__table__.insert().values(**audit.values("slow", "case", 1, actor_label="t"))
        )
        fast = events(1)[0]
        assert sealer.seal() == 1 and log_index(fast) == 0
        transaction.commit()
        slow.close()
        assert sealer.seal() == 1
        slow_id = db.session.scalar(select(audit.AuditEvent.id).where(audit.AuditEvent.action == "slow"))
        assert slow_id < fast and log_index(slow_id) == 1
        assert logcheck.verify().ok


def test_events_undone_with_their_savepoint_or_rollback_are_never_sealed(ctx):
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
    audit.record("never", "case", 4, actor_label="t")
    db.session.flush()
    db.session.rollback()
    sealer.seal()
    actions = db.session.scalars(select(audit.AuditEvent.action).order_by(audit.AuditEvent.log_index)).all()
    assert actions == ["kept", "kept_too"] and logcheck.verify().ok


# --- the seven kinds of tampering, and more ----------------------------------------------------------------


def sealed(n: int = 6) -> list[int]:
    ids = events(n)
    sealer.seal()
    return ids


@pytest.mark.parametrize(
    "column, value",
    [
        ("details", "'{\"n\": 7}'"),  # edit details
        ("actor_label", "'someone else'"),  # edit actor
        ("action", "'case_closed'"),
        ("object_type", "'report'"),
        ("object_id", "'999'"),
        ("at", "'2020-01-01 00:00:00'"),
    ],
)
def test_editing_an_event_is_found_at_that_event(ctx, column, value):
    ids = sealed()
    tamper(f"UPDATE audit_events SET {column} = {value} WHERE id = {ids[3]}")
    result = broken("does not match its content hash (it was edited)")
    assert (result.broken_index, result.broken_event_id, result.through_size) == (3, ids[3], 0)


def test_editing_the_actor_to_a_real_person_is_found(ctx):
    ids = sealed()
    someone = factories.user("moderator")
    tamper(f"UPDATE audit_events SET actor_id = {someone.id}, actor_label = '' WHERE id = {ids[2]}")
    assert broken("it was edited").broken_event_id == ids[2]


def test_deleting_an_event_is_found_at_its_place(ctx):
    ids = sealed()
    tamper(f"DELETE FROM audit_events WHERE id = {ids[2]}")
    result = broken("no event is at this position any more")
    assert result.broken_index == 2


def test_deleting_an_events_link_into_the_tree_is_found(ctx):
    ids = sealed()
    tamper(f"DELETE FROM audit_log_nodes WHERE level = 0 AND position = {log_index(ids[1])}")
    assert broken("the tree's leaf for this event was deleted").broken_event_id == ids[1]


def test_unsealing_an_event_to_reseal_it_elsewhere_is_found(ctx):
    ids = sealed()
    tamper(f"UPDATE audit_events SET log_index = NULL WHERE id = {ids[1]}")
    sealer.seal()  # it is sealed again, at the end: its old place stays empty
    assert broken("no event is at this position any more").broken_index == 1


def test_deleting_the_newest_events_is_found_against_the_last_checkpoint(ctx):
    ids = sealed(5)
    for event_id in ids[-2:]:
        tamper(
            f"DELETE FROM audit_log_nodes WHERE level = 0 AND position = {log_index(event_id)}",
            f"DELETE FROM audit_events WHERE id = {event_id}",
        )
    result = broken("the event sealed here and its leaf were deleted (the last checkpoint signs 5)")
    assert result.broken_index == 3


def test_swapping_two_events_positions_is_found(ctx):
    ids = sealed()
    tamper(
        f"UPDATE audit_events SET log_index = -1 WHERE id = {ids[1]}",
        f"UPDATE audit_events SET log_index = 1 WHERE id = {ids[4]}",
        f"UPDATE audit_events SET log_index = 4 WHERE id = {ids[1]}",
    )
    result = broken("is not the one sealed at this position")
    assert (result.broken_index, result.broken_event_id) == (1, ids[4])


def test_swapping_two_events_contents_is_found(ctx):
    """Every stored value of two events exchanged, their content hashes with them: each hashes right, but not
    to the leaf sealed at its place."""
    ids = sealed()
    columns = (*audit.HASHED_FIELDS, "content_hash")
    as_stored = [f"CAST({c} AS TEXT) AS {c}" if c == "details" else c for c in columns]  # the text, as is
    select_row = f"SELECT {', '.join(as_stored)} FROM audit_events WHERE id = :id"
    rows = {i: db.session.execute(text(select_row), {"id": i}).one()._asdict() for i in (ids[1], ids[4])}
    db.session.rollback()
    assign = f"UPDATE audit_events SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :target"
    tamper((assign, {**rows[ids[4]], "target": ids[1]}), (assign, {**rows[ids[1]], "target": ids[4]}))
    result = broken("is not the one sealed at this position")
    assert (result.broken_index, result.broken_event_id) == (1, ids[1])


def test_a_forged_checkpoint_is_found(ctx):
    sealed(3)
    events(2)
    sealer.seal()
    other = signer.Signer(signer.current().origin, signer.load_private_key(_new_key()))
    second = db.session.get(AuditCheckpoint, 2)
    forged = checkpoint.Checkpoint.parse(checkpoint.body_of(second.note))
    db.session.rollback()
    tamper(f"UPDATE audit_log_checkpoints SET note = '{other.sign(forged.body())}' WHERE id = 2")
    result = broken("checkpoint #2 (size 5): the checkpoint is not signed by this key")
    assert result.broken_index is None


def test_an_altered_checkpoint_is_found(ctx):
    sealed(3)
    note = db.session.get(AuditCheckpoint, 1).note
    db.session.rollback()
    altered = note.replace("\n3\n", "\n2\n", 1)
    tamper(("UPDATE audit_log_checkpoints SET note = :note WHERE id = 1", {"note": altered}))
    broken("signature does not verify: it was altered or forged")


def test_a_deleted_checkpoint_is_found(ctx):
    for _ in range(3):
        sealed(2)
    tamper("DELETE FROM audit_log_checkpoints WHERE id = 2")
    broken("checkpoint #2 is missing")


def test_a_tree_rewritten_to_match_a_rewritten_event_is_found_by_the_signed_root(ctx):
    """Event, content hash, leaf and every subtree rewritten consistently: only the signature still stands."""
    ids = sealed(6)
    forged = audit.values("case_opened", "case", 3, actor_label="api:test", n=99)
    tamper(
        (
            "UPDATE audit_events SET details = :details, content_hash = :hash, at = :at WHERE id = :id",
            {
                "details": audit.canonical_json(forged["details"]),
                "hash": forged["content_hash"],
                "at": forged["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                "id": ids[3],
            },
        )
    )
    leaves = [
        bytes.fromhex(h)
        for h in db.session.scalars(
            select(audit.AuditEvent.content_hash).order_by(audit.AuditEvent.log_index)
        )
    ]
    edge, statements = merkle.Edge(), []
    for leaf in leaves:
        for level, position, value in edge.append(leaf):
            hex_value = value.hex()
            literal = f"X'{hex_value}'" if db.engine.dialect.name == "sqlite" else f"'\\x{hex_value}'::bytea"
            statements.append(
                f"UPDATE audit_log_nodes SET hash = {literal} WHERE level = {level} AND position = {position}"
            )
    db.session.rollback()
    tamper(*statements)
    result = broken("do not give the root the checkpoint of size 6 signs: the tree was rewritten")
    assert result.through_size == 0


def test_a_changed_subtree_that_proofs_would_read_is_found(ctx):
    sealed(8)
    literal = "X'00'" if db.engine.dialect.name == "sqlite" else "'\\x00'::bytea"
    tamper(f"UPDATE audit_log_nodes SET hash = {literal} WHERE level = 2 AND position = 1")
    assert broken("stored subtree over positions 4–7 was changed").broken_index == 4


def test_an_event_written_around_the_console_is_found_once_sealed(ctx):
    sealed(2)
    sql(
        "INSERT INTO audit_events (at, actor_label, action, object_type, object_id, details, content_hash) "
        "VALUES (CURRENT_TIMESTAMP, 'intruder', 'nothing_happened', 'case', '1', '{}', :h)",
        h="ab" * 32,
    )
    assert logcheck.verify().ok  # unsealed: counted, not judged
    assert logcheck.verify().unsealed == 1
    sealer.seal()
    assert broken("it was edited").broken_index == 2


def test_the_sealer_stops_when_the_tree_was_cut_behind_its_back(ctx):
    ids = sealed(4)
    tamper(f"DELETE FROM audit_log_nodes WHERE level = 0 AND position = {log_index(ids[-1])}")
    events(1)
    with pytest.raises(sealer.SealError, match="holds 3 leaves but its last checkpoint signs 4"):
        sealer.seal()
    assert db.session.scalar(select(db.func.count()).select_from(AuditCheckpoint)) == 1


def _new_key() -> str:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()


# --- proofs, commands and the page -------------------------------------------------------------------------


def test_any_event_has_an_inclusion_proof_checked_offline_with_the_public_key(ctx, runner):
    ids = sealed(5)
    events(4)
    sealer.seal()
    key = runner.invoke(args=["audit", "public-key", "--pem"]).output
    for event_id in (ids[0], ids[4]):
        printed = runner.invoke(args=["audit", "prove", str(event_id)])
        assert printed.exit_code == 0, printed.output
        proof = json.loads(printed.output)
        included = verify.check_inclusion(proof, key)
        assert included.event["details"] == {"n": ids.index(event_id)} and proof["tree_size"] == 9
    old = logstore.prove_inclusion(ids[2], size=5)
    assert verify.check_inclusion(old, key).checkpoint.size == 5
    consistency = json.loads(runner.invoke(args=["audit", "prove", "--consistency", "5", "9"]).output)
    assert verify.check_consistency(consistency, key).second.size == 9
    events(1)
    unsealed = runner.invoke(args=["audit", "prove", str(ids[-1] + 5)])
    assert unsealed.exit_code == 1 and "not sealed yet" in unsealed.output


def test_no_proof_is_handed_out_for_an_edited_event(ctx):
    ids = sealed(3)
    tamper(f"UPDATE audit_events SET action = 'forged' WHERE id = {ids[1]}")
    with pytest.raises(logstore.ProofUnavailable, match="does not verify"):
        logstore.prove_inclusion(ids[1])


def test_flask_audit_verify_names_the_first_bad_event(ctx, runner):
    ids = sealed(3)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output and "3 events" in ok.output
    tamper(f"UPDATE audit_events SET details = '{{}}' WHERE id = {ids[1]}")
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"BROKEN at log index 1 (event id {ids[1]})" in bad.output


def test_flask_audit_seal_seals_what_is_waiting(ctx, runner):
    events(3)
    out = runner.invoke(args=["audit", "seal"])
    assert out.exit_code == 0 and "sealed 3 event(s); the log holds 3" in out.output


def test_the_audit_page_shows_the_unsealed_tail_the_last_checkpoint_and_the_key(ctx, client, auth):
    factories.user("admin", email="admin@example.org")
    sealed(3)
    logcheck.verify_and_record("cli")
    events(2)
    auth.login("admin@example.org")  # signing in records an event too
    page = client.get("/settings/audit-log").text
    head = logstore.latest_checkpoint()
    assert "Transparency log:" in page and f"3 events sealed under checkpoint #{head.id}" in page
    # The root is shown whole, in groups a narrow column may break between (<wbr>).
    assert head.root.hex() in page.replace("<wbr>", "") and "Unsealed tail: 3 events" in page
    assert "Verified intact through 3 events" in page
    assert signer.current().verifier_key() in page


def test_the_signing_key_is_made_once_private_and_is_the_one_printed(app, runner, tmp_path):
    import stat

    from console.config import from_environment

    key_file = tmp_path / "audit_signing_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert from_environment()["AUDIT_SIGNING_KEY"] == app.config["AUDIT_SIGNING_KEY"]  # read, not made anew
    with app.app_context():
        printed = runner.invoke(args=["audit", "public-key"]).output
        assert signer.current().verifier_key() in printed and "BEGIN PUBLIC KEY" in printed


def test_a_configured_signing_key_is_used(app, monkeypatch):
    from console.config import from_environment

    seed = _new_key()
    monkeypatch.setenv("AUDIT_SIGNING_KEY", seed)
    assert from_environment()["AUDIT_SIGNING_KEY"] == seed
    assert signer.load_private_key(seed).private_bytes_raw().hex()
    with pytest.raises(signer.SigningKeyError):
        signer.load_private_key("not a key")


def test_nodes_are_only_appended(ctx):
    sealed(5)
    before = {(n.level, n.position): n.hash for n in db.session.scalars(select(AuditLogNode))}
    sealed(3)
    after = {(n.level, n.position): n.hash for n in db.session.scalars(select(AuditLogNode))}
    assert all(after[key] == value for key, value in before.items())


# --- concurrency: real processes ----------------------------------------------------------------------------

CHILD_CONFIG_KEYS = (
    "TESTING",
    "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL",
    "RQ_QUEUE",
    "INSTANCE_PATH",
    "SECRET_KEY",
    "CREDENTIALS_KEYS",
    "AUDIT_SIGNING_KEY",
)


def _child_app(config: dict):
    from console import create_app

    return create_app(config)


def _writer(config: dict, n: int, count: int, start, results) -> None:
    app = _child_app(config)
    with app.app_context():
        start.wait()
        for i in range(count):
            audit.record("concurrent", "case", f"{n}-{i}", actor_label=f"writer {n}")
            if i % 3 == 0:
                audit.record("concurrent_second", "case", f"{n}-{i}", actor_label=f"writer {n}")
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    results.put(("writer", n, 0))


def _sealer(config: dict, n: int, seconds: float, lock_off: bool, start, results) -> None:
    import time

    app = _child_app(config)
    races = []
    if lock_off:  # as if the advisory lock were gone: only the unique constraints stand between them
        sealer._locked = lambda _session: True
    original = sealer.log.info
    sealer.log.info = lambda message, *a: races.append(message) or original(message, *a)
    with app.app_context():
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sealer.seal_batch(limit=7)
        db.session.remove()
        db.engine.dispose()
    results.put(("sealer", n, len(races)))


@pytest.mark.parametrize("lock_off", [False, True], ids=["with-the-lock", "constraints-alone"])
def test_concurrent_writers_and_racing_sealer_processes_keep_one_tree(app, lock_off):
    """4 writer and 3 sealer processes at once: every event sealed exactly once, one chain of checkpoints."""
    import multiprocessing

    writers, each, sealers = 4, 30, 3
    config = {key: app.config[key] for key in CHILD_CONFIG_KEYS}
    # Forked: each child makes its own app, engine and connections (as gunicorn workers and rq workers do).
    spawn = multiprocessing.get_context("fork")
    start, results = spawn.Barrier(writers + sealers), spawn.Queue()
    procs = [spawn.Process(target=_writer, args=(config, n, each, start, results)) for n in range(writers)]
    procs += [
        spawn.Process(target=_sealer, args=(config, n, 5.0, lock_off, start, results)) for n in range(sealers)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    with app.app_context():
        sealer.seal()
        expected = writers * (each + len(range(0, each, 3)))
        indexes = sorted(db.session.scalars(select(audit.AuditEvent.log_index)))
        assert indexes == list(range(expected))  # every event once, no gap, no position twice
        checkpoints = db.session.scalars(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.id)).all()
        assert checkpoints == sorted(set(checkpoints)) and checkpoints[-1] == expected
        result = logcheck.verify()
        assert result.ok and result.events_checked == expected, result.summary
        races = sum(n for kind, _n, n in outcomes if kind == "sealer")
        if lock_off and db.engine.dialect.name == "postgresql":
            assert races > 0, "the sealers never raced: the test proved nothing"


def test_rq_cron_and_a_production_worker_seal_new_events_within_seconds(app):
    """As `make run` and production run it: `rq cron jobs/cron.py` enqueues the sealer every second, a worker
    of the production class runs it, and the new events leave the unsealed tail."""
    import subprocess
    import time

    from tests.conftest import ROOT
    from tests.reporting.fault_harness import RQ, Workers

    with app.app_context():
        workers = Workers(app)
        workers.start()
        cron = subprocess.Popen(
            [RQ, "cron", "--url", workers.redis_url, str(ROOT / "jobs" / "cron.py")],
            env={**workers.env, "AUDIT_SEAL_INTERVAL_SECONDS": "1"},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            events(3)
            deadline = time.monotonic() + 90  # a worker warms up for seconds on a loaded machine
            while logcheck.tail().count and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.2)
            assert logcheck.tail().count == 0, "the sealer did not run"
            events(2)  # and again a second later, with the worker warm
            started = time.monotonic()
            while logcheck.tail().count and time.monotonic() - started < 15:
                db.session.rollback()
                time.sleep(0.1)
            assert logcheck.tail().count == 0 and logstore.latest_checkpoint().tree_size == 5
            assert logcheck.verify().ok
        finally:
            cron.terminate()
            cron.wait(10)
            workers.stop_all()
