"""A database of its own for a test or a session: a SQLite file, or a PostgreSQL database created beside the
one DATABASE_URL names and dropped afterwards; and rows for tables known only by reflection (migrations)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import types as sqltypes


@contextmanager
def own_database(folder: Path, prefix: str = "console_test", *, fast_commits: bool = False) -> Iterator[str]:
    """The URL of an empty database of the configured kind (DATABASE_URL's server, else SQLite)."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{folder / (prefix + '.db')}"
        return
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if fast_commits:
            # A commit need not wait for its WAL to reach the disk: the database is dropped at the end, and
            # no test can see the difference (only what a crash of PostgreSQL itself would keep).
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill_row(table, values: dict) -> dict:
    """Values for every column the row needs (NOT NULL without a default), beside the ones given."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, sqltypes.Boolean):
            row[column.name] = False
        elif isinstance(kind, sqltypes.Integer | sqltypes.Float | sqltypes.Numeric):
            row[column.name] = 0
        elif isinstance(kind, sqltypes.DateTime):
            row[column.name] = datetime(2026, 11, 1)
        elif isinstance(kind, sqltypes.JSON):
            row[column.name] = {}
        else:
            row[column.name] = "x"
    return row
