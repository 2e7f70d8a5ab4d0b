"""What the stand-in received: statements, the PUIDs each platform has used, and the refusals.

The service's PUID rules (API.md §6), kept here:

- A PUID is used once per platform, across both endpoints, for ever: ``platform_puids`` outlives everything.
- The PUID record and the statement are written in one transaction: a 201 means both, a failure neither.
- While a request stores, it holds a lock per (platform, PUID) for ``lock_seconds`` (30 s at the service). A
  second request for a locked PUID is answered "not unique" — and on the batch endpoint that contention also
  marks the PUID as used in the cache for ``cache_seconds`` (2 days), so the lookup says "found" and
  resubmissions are refused for that long, stored or not.
- The lookup answers "found" from the cache or the table.

SQLite behind one lock: every method is atomic. Locks and cache marks live in memory (the service's cache).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

LOCK_SECONDS = 30.0
CACHE_SECONDS = 2 * 24 * 3600.0
FIRST_ID = 4_000_000_000  # the service's ids are large integers

_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    puid TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS platform_puids (
    platform TEXT NOT NULL,
    puid TEXT NOT NULL,
    PRIMARY KEY (platform, puid)
);
CREATE TABLE IF NOT EXISTS refusals (
    refusal_id INTEGER PRIMARY KEY,
    refused_at TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    platform TEXT,
    status INTEGER NOT NULL,
    answer TEXT NOT NULL
);
"""


class StandinStore:
    def __init__(
        self,
        path: str | Path | None = None,
        *,
        lock_seconds: float = LOCK_SECONDS,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock_seconds = lock_seconds
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._mutex = threading.Lock()
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        self._locks: dict[tuple[str, str], float] = {}  # (platform, puid) → expires at
        self._cache: dict[tuple[str, str], float] = {}  # (platform, puid) → "used" until

    # --- PUIDs ---------------------------------------------------------------------------------------------

    def claim(self, platform: str, puids: list[str], *, batch: bool) -> list[str]:
        """Lock every free PUID of a request; return those already used or locked by another request.

        When any is refused, nothing stays locked by this request.
        """
        with self._mutex:
            now = self.clock()
            refused = []
            for puid in puids:
                key = (platform, puid)
                if self._locks.get(key, 0) > now:
                    refused.append(puid)
                    if batch:
                        self._cache[key] = now + self.cache_seconds
                elif self._cache.get(key, 0) > now or self._used(platform, puid):
                    refused.append(puid)
            if not refused:
                for puid in puids:
                    self._locks[(platform, puid)] = now + self.lock_seconds
            return refused

    def release(self, platform: str, puids: Iterable[str]) -> None:
        with self._mutex:
            for puid in puids:
                self._locks.pop((platform, puid), None)

    def exists(self, platform: str, puid: str) -> bool:
        with self._mutex:
            return self._cache.get((platform, puid), 0) > self.clock() or self._used(platform, puid)

    def _used(self, platform: str, puid: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM platform_puids WHERE platform = ? AND puid = ?", (platform, puid)
        ).fetchone()
        return row is not None

    # --- statements ----------------------------------------------------------------------------------------

    def store(
        self, platform: str, endpoint: str, statements: list[dict[str, Any]], created_at: str
    ) -> list[dict]:
        """Store statements and their PUIDs in one transaction; returns them with uuid and id."""
        with self._mutex:
            self._db.execute("BEGIN")
            try:
                stored = []
                last = self._db.execute("SELECT MAX(id) FROM statements").fetchone()[0]
                for number, statement in enumerate(statements, start=max(last or 0, FIRST_ID) + 1):
                    statement_id = number
                    uuid = str(uuid_module.uuid4())
                    self._db.execute(
                        "INSERT INTO platform_puids (platform, puid) VALUES (?, ?)",
                        (platform, statement["puid"]),
                    )
                    self._db.execute(
                        "INSERT INTO statements (id, uuid, platform, puid, endpoint, created_at, body)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            statement_id,
                            uuid,
                            platform,
                            statement["puid"],
                            endpoint,
                            created_at,
                            json.dumps(statement),
                        ),
                    )
                    stored.append({**statement, "uuid": uuid, "id": statement_id, "created_at": created_at})
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return stored

    def statement(self, uuid: str) -> dict[str, Any] | None:
        with self._mutex:
            row = self._db.execute("SELECT * FROM statements WHERE uuid = ?", (uuid,)).fetchone()
        return _as_dict(row) if row else None

    def statements(self, platform: str | None = None, puid: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT * FROM statements WHERE 1 = 1", []
        if platform is not None:
            query, args = query + " AND platform = ?", [*args, platform]
        if puid is not None:
            query, args = query + " AND puid = ?", [*args, puid]
        with self._mutex:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_as_dict(row) for row in rows]

    def count(self) -> int:
        with self._mutex:
            return self._db.execute("SELECT COUNT(*) FROM statements").fetchone()[0]

    # --- refusals ------------------------------------------------------------------------------------------

    def refuse(self, endpoint: str, platform: str | None, status: int, answer: Any, when: str) -> None:
        with self._mutex:
            self._db.execute(
                "INSERT INTO refusals (refused_at, endpoint, platform, status, answer)"
                " VALUES (?, ?, ?, ?, ?)",
                (when, endpoint, platform, status, json.dumps(answer)),
            )

    def refusals(self) -> list[dict[str, Any]]:
        with self._mutex:
            rows = self._db.execute("SELECT * FROM refusals ORDER BY refusal_id").fetchall()
        return [{**dict(row), "answer": json.loads(row["answer"])} for row in rows]


def _as_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "uuid": row["uuid"],
        "platform": row["platform"],
        "puid": row["puid"],
        "endpoint": row["endpoint"],
        "created_at": row["created_at"],
        "statement": json.loads(row["body"]),
    }
