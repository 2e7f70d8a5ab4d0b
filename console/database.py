"""Engine settings that make SQLite behave for concurrent writers the way PostgreSQL does."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from console.extensions import db


def configure_engine_options(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if uri.startswith("sqlite"):
        # Several processes (web, workers) write: wait for the lock instead of failing at once.
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    elif uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def install_sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes can fail with
        # SQLITE_BUSY without waiting, which would break compare-and-set state changes under contention.
        # The price: on SQLite any open transaction blocks other writers, so code must never hold one across
        # a network call or a wait (jobs commit or roll back before each CyberTipline call).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# --- values read once per transaction ---
#
# A page asks several modules the same questions about small, rarely edited tables (the policy tree, which
# queues are marked child-safety): each answer costs a round trip, and the case page asked five of them twice.
# A memo keeps one answer per session for as long as nothing it was read from was written: a flush that wrote
# to one of its tables (or any flush, for a memo that names none) and every commit or rollback drop it, so a
# value is never older than the transaction's own reads, and a request that changes policies reads them
# again. A decision flushes four times (the case, its decision, counters, events) and writes no policy: it
# reads the tree once, not four times.

_MEMO = "console.memo"


def memo(key: str, compute, tables: tuple[str, ...] | None = None):
    """`compute()`, once per session until a flush writing to `tables` (any flush if None), a commit or a
    rollback."""
    values = db.session.info.setdefault(_MEMO, {})
    if key not in values:
        values[key] = (compute(), frozenset(tables) if tables is not None else None)
    return values[key][0]


def _forget(session, *_args) -> None:
    session.info.pop(_MEMO, None)


def _forget_written(session, _flush_context) -> None:
    values = session.info.get(_MEMO)
    if not values:
        return
    # In after_flush the session still lists what this flush wrote (new, dirty, deleted).
    written = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        written.update(table.name for table in type(obj).__mapper__.tables)
    for key, (_value, tables) in list(values.items()):
        if tables is None or tables & written:
            del values[key]


event.listen(Session, "after_flush", _forget_written)
for _event in ("after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, _forget)
