"""What the demo platform remembers: deliveries received, content and accounts, preservations, faults.

SQLite (a file with --db, else memory), one lock: the server is threaded.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    type TEXT NOT NULL,
    received_at TEXT NOT NULL,
    verified INTEGER NOT NULL,
    duplicate INTEGER NOT NULL,
    answer INTEGER NOT NULL,
    fault TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS content (
    content_id TEXT PRIMARY KEY, state TEXT NOT NULL, url TEXT NOT NULL, changed_at TEXT NOT NULL,
    webhook_id TEXT
);
CREATE TABLE IF NOT EXISTS accounts (
    platform_id TEXT PRIMARY KEY, state TEXT NOT NULL, changed_at TEXT NOT NULL, webhook_id TEXT
);
CREATE TABLE IF NOT EXISTS preservations (
    reference TEXT PRIMARY KEY, platform_id TEXT NOT NULL, cybertip_id TEXT, preserve_until TEXT,
    received_at TEXT NOT NULL, webhook_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL);
"""
ACCOUNT_STATES = {
    "account.disable": "disabled permanently",
    "account.suspend": "suspended",
    "account.restore": "active",
}
CONTENT_STATES = {"content.remove": "removed", "content.restore": "visible"}
FAULTS = ("500", "timeout", "410", "slow")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PlatformStore:
    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)

    def seen(self, webhook_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM deliveries WHERE webhook_id = ? AND verified = 1"
                " AND answer BETWEEN 200 AND 299",
                (webhook_id,),
            ).fetchone()
        return row is not None

    def record(
        self,
        webhook_id: str,
        kind: str,
        verified: bool,
        duplicate: bool,
        answer: int,
        body: bytes,
        fault: str = "",
    ) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO deliveries (webhook_id, type, received_at, verified, duplicate, answer, fault,"
                " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    webhook_id,
                    kind,
                    now(),
                    int(verified),
                    int(duplicate),
                    answer,
                    fault,
                    body.decode("utf-8", "replace")[:20000],
                ),
            )

    def apply(self, event: dict, webhook_id: str) -> dict:
        """Act on a verified, new event; the acknowledgement's body."""
        kind, data = event.get("type", ""), event.get("data") or {}
        content = data.get("content") or {}
        account = (data.get("account") or {}).get("platform_id") or ""
        with self._lock, self._db:
            if kind in CONTENT_STATES and content.get("id"):
                self._db.execute(
                    "INSERT INTO content VALUES (?, ?, ?, ?, ?) ON CONFLICT(content_id) DO UPDATE SET"
                    " state = excluded.state, changed_at = excluded.changed_at,"
                    " webhook_id = excluded.webhook_id",
                    (content["id"], CONTENT_STATES[kind], content.get("url") or "", now(), webhook_id),
                )
                return {"ok": True, "content": content["id"], "state": CONTENT_STATES[kind]}
            if kind in ACCOUNT_STATES and account:
                self._db.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?) ON CONFLICT(platform_id) DO UPDATE SET"
                    " state = excluded.state, changed_at = excluded.changed_at,"
                    " webhook_id = excluded.webhook_id",
                    (account, ACCOUNT_STATES[kind], now(), webhook_id),
                )
                return {"ok": True, "account": account, "state": ACCOUNT_STATES[kind]}
            if kind == "preservation.request":
                reference = f"pres-{webhook_id[-8:]}"
                self._db.execute(
                    "INSERT OR IGNORE INTO preservations VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        reference,
                        account,
                        str(data.get("cybertip_id") or ""),
                        data.get("preserve_until"),
                        now(),
                        webhook_id,
                    ),
                )
                return {"preserved": True, "reference": reference, "until": data.get("preserve_until")}
        return {"ok": True, "ignored": kind}

    def next_fault(self) -> str:
        with self._lock, self._db:
            row = self._db.execute("SELECT seq, kind FROM faults ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return ""
            self._db.execute("DELETE FROM faults WHERE seq = ?", (row["seq"],))
            return row["kind"]

    def add_faults(self, kind: str, count: int) -> None:
        with self._lock, self._db:
            self._db.executemany("INSERT INTO faults (kind) VALUES (?)", [(kind,)] * count)

    def clear_faults(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM faults")

    def state(self) -> dict:
        with self._lock:
            q = self._db.execute
            return {
                "deliveries": [dict(r) for r in q("SELECT * FROM deliveries ORDER BY seq DESC LIMIT 200")],
                "content": {
                    r["content_id"]: dict(r) for r in q("SELECT * FROM content ORDER BY changed_at DESC")
                },
                "accounts": {
                    r["platform_id"]: dict(r) for r in q("SELECT * FROM accounts ORDER BY changed_at DESC")
                },
                "preservations": [
                    dict(r) for r in q("SELECT * FROM preservations ORDER BY received_at DESC")
                ],
                "faults": [r["kind"] for r in q("SELECT kind FROM faults ORDER BY seq")],
            }
