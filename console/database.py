"""Engine settings that make SQLite behave for concurrent writers the way PostgreSQL does."""

from __future__ import annotations

import json

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


def has_memo(key: str) -> bool:
    return key in db.session.info.get(_MEMO, {})


def remember(key: str, value, tables: tuple[str, ...] | None = None):
    """Keep `value` as `memo(key, …, tables)` would have computed it (the caller read it in its own
    statement)."""
    db.session.info.setdefault(_MEMO, {})[key] = (value, frozenset(tables) if tables is not None else None)
    return value


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


# --- rows of a small table folded into another statement (JSON aggregation) ---
#
# A page that needs one row and a small list (a queue and the policy tree) asks once instead of twice: the
# list comes back as one JSON column, an array of arrays in the columns' order. PostgreSQL's json_agg or
# SQLite's json_group_array; psycopg hands the JSON back parsed, SQLite as text (`json_list` reads either).


def json_rows(*columns, where=None):
    """A scalar subquery: the rows of `columns` (one table) as a JSON array of arrays, `[]` when none. In no
    particular order: the caller sorts what it reads."""
    from sqlalchemy import func, literal_column, select

    postgres = db.session.get_bind().dialect.name == "postgresql"
    row = func.json_build_array(*columns) if postgres else func.json_array(*columns)
    agg = func.json_agg(row) if postgres else func.json_group_array(row)
    query = select(func.coalesce(agg, literal_column("'[]'")))
    if where is not None:
        query = query.where(where)
    return query.scalar_subquery()


def json_list(value) -> list:
    """A `json_rows` column as read back: a list of lists."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- pages that only read: no transaction around them ---
#
# A page's statements on PostgreSQL cost BEGIN and ROLLBACK round trips around them, for nothing: at READ
# COMMITTED each statement reads its own snapshot inside a transaction too. A view marked `reads_only` runs
# its statements in autocommit instead (when the request has not begun a transaction before it: the
# signed-in copy missed and the user's row was read). A write in such a view would no longer be atomic, so
# any flush there is refused (an error, not a half-written change). SQLite keeps its transaction: its BEGIN
# costs no round trip.

_READ_ONLY = "console.read_only"


def reads_only(view):
    from functools import wraps

    @wraps(view)
    def wrapped(*args, **kwargs):
        session = db.session()  # the request's Session, not the scoped registry
        if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
            return view(*args, **kwargs)
        session.info[_READ_ONLY] = True
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            return view(*args, **kwargs)  # rendered: every statement of the page has run
        finally:
            # The connection goes back to the pool, which restores its isolation level; nothing to roll back.
            session.info.pop(_READ_ONLY, None)
            session.rollback()

    return wrapped


class ReadOnlyViolation(RuntimeError):
    """A view marked `reads_only` tried to write."""


def _refuse_writes(session, _context, _instances) -> None:
    if session.info.get(_READ_ONLY):
        raise ReadOnlyViolation("a page marked reads_only flushed a change")


def _end_read_only(session, *_args) -> None:
    session.info.pop(_READ_ONLY, None)


event.listen(Session, "before_flush", _refuse_writes)
for _event in ("after_commit", "after_rollback"):
    event.listen(Session, _event, _end_read_only)
