"""Finding banked PDQ hashes within a Hamming distance of a new one, fast at a million entries.

Multi-index hashing, as PDQ's reference index does: the 256 bits are cut into 16 chunks of 16 bits. Two
hashes within distance d ≤ 31 differ in at most 31 bits, spread over 16 chunks, so at least one chunk
differs in at most one bit (16 chunks with two or more each would be 32 bits). A lookup therefore probes,
for each chunk, the bucket of its exact value and the 16 buckets one bit away (16 × 17 = 272 buckets), and
checks the real distance of every entry found there. In general the probe radius is ⌊d / 16⌋ bits per chunk.

Why in memory, rebuilt from the table (measured in bench/pdq_lookup.py, 1,000,000 random hashes, 2 cores):
the same probe as an indexed table of chunks — 16 rows per hash, one query of 272 equality lookups —
answered in about 10 ms on SQLite with a warm cache, needed 277 MB on disk and a minute to build; in memory
the lookup takes about 1 ms, for about 100 MB per process (the hashes, 32 MB, and one sorted permutation per
chunk, 16 × 4 MB) and a load of a few seconds once per process.

Each process keeps its index in its app (`bank_index`), and catches up with the database before every
lookup: PDQ entries are fed through a table of their own (PdqFeed), whose ids only ever grow, so "entries
after the last id I saw" is one indexed query. Ids are handed out when rows are inserted, not when they
commit: on PostgreSQL an id may become visible after a larger one. A missing id below the last one seen is
kept as a gap and asked for again, for GAP_SECONDS (longer than any transaction that adds to the bank);
after that it was rolled back. A table emptied under the index (a restore, the tests) is noticed by the last
feed id seen no longer naming the same entry and hash, and the index is loaded again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from sqlalchemy import and_, or_, select

from console.extensions import db

CHUNKS = 16
CHUNK_VALUES = 1 << 16
GAP_SECONDS = 600.0
LOAD_BATCH = 50_000
RECENT_IDS = 10_000
EXTENSION = "console.hashbank.index"


def to_words(hex_hashes: list[str]) -> np.ndarray:
    """Hex hashes as an (n, 4) array of uint64 (the bytes in their written order)."""
    if not hex_hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(hex_hashes))
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4).copy()


def flip_masks(radius: int) -> np.ndarray:
    """Every 16-bit mask with at most `radius` bits set: the buckets probed around a chunk's value."""
    masks = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(16), r):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint32)


class PdqIndex:
    """An immutable multi-index over PDQ hashes, each with the id of its bank entry."""

    def __init__(self, ids: np.ndarray, words: np.ndarray):
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)
        self.words = np.ascontiguousarray(words, dtype=np.uint64)
        chunks = self.words.view(np.uint16).reshape(-1, CHUNKS)
        self.orders: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        for c in range(CHUNKS):
            column = chunks[:, c]
            # Positions sorted by this chunk's value; starts[v]:starts[v + 1] is the bucket of value v.
            self.orders.append(np.argsort(column, kind="stable").astype(np.uint32))
            starts = np.zeros(CHUNK_VALUES + 1, dtype=np.int64)
            np.cumsum(np.bincount(column, minlength=CHUNK_VALUES), out=starts[1:])
            self.starts.append(starts)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: np.ndarray, max_distance: int) -> list[tuple[int, int]]:
        """(entry id, distance) of each hash within max_distance bits of `query` (4 uint64), nearest first."""
        if not len(self.ids):
            return []
        masks = flip_masks(max_distance // CHUNKS)
        chunks = query.view(np.uint16)
        found = []
        for c in range(CHUNKS):
            values = (masks ^ int(chunks[c])).astype(np.int64)
            starts, order = self.starts[c], self.orders[c]
            lows, highs = starts[values], starts[values + 1]
            for low, high in zip(lows[highs > lows].tolist(), highs[highs > lows].tolist(), strict=True):
                found.append(order[low:high])
        if not found:
            return []
        positions = np.unique(np.concatenate(found))
        return _within(self.ids[positions], self.words[positions], query, max_distance)


def _within(
    ids: np.ndarray, words: np.ndarray, query: np.ndarray, max_distance: int
) -> list[tuple[int, int]]:
    distances = np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int64)
    near = distances <= max_distance
    pairs = sorted(zip(distances[near].tolist(), ids[near].tolist(), strict=True))
    return [(entry_id, distance) for distance, entry_id in pairs]


@dataclass
class _Gap:
    low: int  # feed ids low..high (inclusive) were missing when seen
    high: int
    since: float
    seen: set[int] = field(default_factory=set)


class LiveIndex:
    """A process's index of the bank's PDQ entries, brought up to date from the database before each lookup.

    New entries collect in a small unsorted delta, scanned directly; once it grows past
    max(MERGE_MIN, 5 % of the index) the index is rebuilt in memory (no database read).
    """

    MERGE_MIN = 4096

    def __init__(self):
        self._lock = threading.Lock()
        self._index: PdqIndex | None = None
        self._delta_ids: list[int] = []
        self._delta_words = np.zeros((0, 4), dtype=np.uint64)
        self._last_feed_id = 0
        self._last = (0, "")  # the entry id and hash the last feed id named
        self._gaps: list[_Gap] = []

    def search(self, pdq_hex: str, max_distance: int) -> list[tuple[int, int]]:
        query = to_words([pdq_hex])[0]
        with self._lock:
            self._catch_up()
            found = self._index.search(query, max_distance) if self._index is not None else []
            if self._delta_ids:
                found += _within(np.array(self._delta_ids), self._delta_words, query, max_distance)
        return sorted(found, key=lambda pair: (pair[1], pair[0]))

    def size(self) -> int:
        with self._lock:
            self._catch_up()
            return (len(self._index) if self._index is not None else 0) + len(self._delta_ids)

    # -- keeping up with the table --

    def _catch_up(self) -> None:
        """One query: the last feed row seen (is it still the same table?), newer rows, and the gaps."""
        from console.hashbank.models import HashEntry, PdqFeed

        if self._index is None:
            self._load()
            return
        now = time.monotonic()
        self._gaps = [g for g in self._gaps if now - g.since < GAP_SECONDS]
        wanted = [PdqFeed.id >= self._last_feed_id]
        wanted += [and_(PdqFeed.id >= g.low, PdqFeed.id <= g.high) for g in self._gaps]
        rows = db.session.execute(
            select(PdqFeed.id, HashEntry.id, HashEntry.value)
            .join(HashEntry, HashEntry.id == PdqFeed.entry_id)
            .where(or_(*wanted))
            .order_by(PdqFeed.id)
        ).all()
        last_seen = next(((e, v) for feed_id, e, v in rows if feed_id == self._last_feed_id), None)
        if self._last_feed_id and last_seen != self._last:
            self._load()  # the row we saw last is gone or another: the table was emptied or restored
            return
        fresh = []
        for feed_id, entry_id, value in rows:
            gap = next((g for g in self._gaps if g.low <= feed_id <= g.high), None)
            if gap is not None:
                if feed_id in gap.seen:
                    continue
                gap.seen.add(feed_id)
            elif feed_id <= self._last_feed_id:
                continue
            fresh.append((feed_id, entry_id, value))
        self._note_gaps([r[0] for r in fresh if r[0] > self._last_feed_id], now)
        if not fresh:
            return
        self._delta_ids += [r[1] for r in fresh]
        self._delta_words = np.concatenate([self._delta_words, to_words([r[2] for r in fresh])])
        newest = max(fresh, key=lambda r: r[0])
        if newest[0] > self._last_feed_id:
            self._last_feed_id, self._last = newest[0], (newest[1], newest[2])
        if len(self._delta_ids) > max(self.MERGE_MIN, len(self._index) // 20):
            self._merge()

    def _note_gaps(self, new_feed_ids: list[int], now: float) -> None:
        """Ids skipped between the last one seen and the newest: not committed yet, or rolled back."""
        expected = self._last_feed_id + 1
        for feed_id in sorted(new_feed_ids):
            if feed_id > expected:
                self._gaps.append(_Gap(expected, feed_id - 1, now))
            expected = feed_id + 1

    def _load(self) -> None:
        from console.hashbank.models import HashEntry, PdqFeed

        feed_ids: list[int] = []
        ids: list[int] = []
        last = (0, "")
        parts: list[np.ndarray] = []
        result = db.session.execute(
            select(PdqFeed.id, HashEntry.id, HashEntry.value)
            .join(HashEntry, HashEntry.id == PdqFeed.entry_id)
            .order_by(PdqFeed.id)
            .execution_options(yield_per=LOAD_BATCH)
        )
        for batch in result.partitions():
            feed_ids += [r[0] for r in batch]
            ids += [r[1] for r in batch]
            parts.append(to_words([r[2] for r in batch]))
            last = (batch[-1][1], batch[-1][2])
        words = np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.uint64)
        self._index = PdqIndex(np.array(ids, dtype=np.int64), words)
        self._delta_ids = []
        self._delta_words = np.zeros((0, 4), dtype=np.uint64)
        self._gaps = []
        self._last_feed_id, self._last = 0, (0, "")
        if feed_ids:
            # Holes among the most recent ids may still commit; older ones were rolled back long ago.
            recent = feed_ids[-RECENT_IDS:]
            self._last_feed_id = recent[0]
            self._note_gaps(recent[1:], time.monotonic())
            self._last_feed_id, self._last = feed_ids[-1], last

    def _merge(self) -> None:
        ids = np.concatenate([self._index.ids, np.array(self._delta_ids, dtype=np.int64)])
        words = np.concatenate([self._index.words, self._delta_words])
        self._index = PdqIndex(ids, words)
        self._delta_ids = []
        self._delta_words = np.zeros((0, 4), dtype=np.uint64)


_create_lock = threading.Lock()


def bank_index() -> LiveIndex:
    """This app's index (one per process): loaded at its first lookup, then kept up to date."""
    from flask import current_app

    index = current_app.extensions.get(EXTENSION)
    if index is None:
        with _create_lock:
            index = current_app.extensions.setdefault(EXTENSION, LiveIndex())
    return index
