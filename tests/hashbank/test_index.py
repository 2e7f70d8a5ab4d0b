"""The PDQ index finds every banked hash within the distance, at any radius, and keeps up with the table."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import insert

from console.extensions import db
from console.hashbank import index as pdq_index
from console.hashbank.models import HashEntry, HashSource, PdqFeed


def random_hashes(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flipped(words: np.ndarray, bits: list[int]) -> np.ndarray:
    raw = bytearray(words.tobytes())
    for bit in bits:
        raw[bit // 8] ^= 1 << (bit % 8)
    return np.frombuffer(bytes(raw), dtype=np.uint64).copy()


def brute_force(words: np.ndarray, query: np.ndarray, max_distance: int) -> set[int]:
    distances = np.bitwise_count(words ^ query).sum(axis=1)
    return {int(i) for i in np.nonzero(distances <= max_distance)[0]}


@pytest.mark.parametrize("max_distance", [0, 15, 31, 40])
def test_finds_exactly_what_a_full_scan_finds(max_distance):
    words = random_hashes(20_000)
    rng = np.random.default_rng(7)
    for target in rng.integers(0, len(words), size=25):
        # Spread the differing bits over the whole hash: the worst case for chunked lookups.
        bits = rng.choice(256, size=int(rng.integers(0, max_distance + 1)), replace=False).tolist()
        words[-1] = flipped(words[target], bits)  # a near twin to find, besides the target itself
    index = pdq_index.PdqIndex(np.arange(len(words)), words)
    for target in rng.integers(0, len(words), size=40):
        bits = rng.choice(256, size=int(rng.integers(0, max_distance + 1)), replace=False).tolist()
        query = flipped(words[target], bits)
        found = {entry_id for entry_id, _d in index.search(query, max_distance)}
        assert found == brute_force(words, query, max_distance)
        assert int(target) in found


def test_a_hash_31_bits_away_spread_two_per_chunk_but_one_is_found():
    words = random_hashes(1000)
    # 15 chunks with two differing bits each and one chunk with one: 31 bits, no chunk identical.
    bits = [c * 16 + b for c in range(15) for b in (0, 1)] + [15 * 16]
    query = flipped(words[123], bits)
    assert pdq_index.PdqIndex(np.arange(1000), words).search(query, 31)[0] == (123, 31)


def hex_of(words: np.ndarray) -> str:
    return words.tobytes().hex()


def bank(*hashes: str, feed_ids: list[int] | None = None) -> list[int]:
    source = HashSource(kind="import", label="test list")
    db.session.add(source)
    db.session.flush()
    entries = [HashEntry(source_id=source.id, algorithm="pdq", value=h) for h in hashes]
    db.session.add_all(entries)
    db.session.flush()
    rows = [{"entry_id": e.id} for e in entries]
    if feed_ids:
        rows = [{"id": i, **r} for i, r in zip(feed_ids, rows, strict=True)]
    db.session.execute(insert(PdqFeed), rows)
    db.session.commit()
    return [e.id for e in entries]


def test_the_live_index_sees_new_entries_and_late_commits(ctx):
    words = random_hashes(3, seed=5)
    live = pdq_index.bank_index()
    [first] = bank(hex_of(words[0]))
    assert [e for e, _d in live.search(hex_of(words[0]), 31)] == [first]
    # Feed id 3 commits before id 2 (two transactions, PostgreSQL): 2 is a gap, asked for again later.
    [third] = bank(hex_of(words[2]), feed_ids=[3])
    assert [e for e, _d in live.search(hex_of(words[2]), 31)] == [third]
    [second] = bank(hex_of(words[1]), feed_ids=[2])
    assert [e for e, _d in live.search(hex_of(words[1]), 31)] == [second]
    assert live.size() == 3


def test_the_live_index_reloads_when_the_table_was_emptied(ctx):
    words = random_hashes(2, seed=9)
    live = pdq_index.bank_index()
    bank(hex_of(words[0]))
    assert live.search(hex_of(words[0]), 0)
    db.session.execute(PdqFeed.__table__.delete())
    db.session.execute(HashEntry.__table__.delete())
    db.session.commit()
    [again] = bank(hex_of(words[1]), feed_ids=[1])
    assert live.search(hex_of(words[0]), 0) == []
    assert [e for e, _d in live.search(hex_of(words[1]), 0)] == [again]


def test_the_delta_is_merged_into_the_index(ctx, monkeypatch):
    monkeypatch.setattr(pdq_index.LiveIndex, "MERGE_MIN", 4)
    words = random_hashes(10, seed=11)
    live = pdq_index.bank_index()
    ids = bank(*[hex_of(w) for w in words[:2]])
    live.search(hex_of(words[0]), 0)
    ids += bank(*[hex_of(w) for w in words[2:]])
    for w, entry_id in zip(words, ids, strict=True):
        assert [e for e, _d in live.search(hex_of(w), 0)] == [entry_id]
    assert len(live._index) == 10 and live._delta_ids == []
