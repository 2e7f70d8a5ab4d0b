"""Why the audit log keeps its own tree module: pymerkle's database-backed tree beside console/tlog's.

    .venv/bin/pip install pymerkle==7.0.0   # not a dependency of the console: only this comparison needs it
    .venv/bin/python bench/merkle_storage.py [--leaves 1000000]

Both trees live in a SQLite file (pymerkle's own `SqliteTree`; for ours, a table of perfect subtrees as
`audit_log_nodes` holds them). What a sealer and a prover do, each in a fresh process's situation (nothing
cached): the root of the whole tree; an inclusion proof of an early leaf; then appending 1,000 leaves and the
new root. pymerkle stores leaves only and recomputes subtrees from them (cached in memory per process), so a
cold root or proof reads and hashes every leaf: O(n). The console's tree stores every perfect subtree once
when it fills: a root or proof reads O(log n) rows. Both give the same roots (checked).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.tlog import merkle  # noqa: E402


def ours(path: str, data: list[bytes]) -> dict:
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE nodes (level INTEGER, position INTEGER, hash BLOB, PRIMARY KEY (level, position))"
    )
    edge, rows, began = merkle.Edge(), [], time.perf_counter()
    for item in data:
        rows += edge.append(merkle.leaf_hash(item))
    db.executemany("INSERT INTO nodes VALUES (?, ?, ?)", rows)
    db.commit()
    build = time.perf_counter() - began

    def read(keys):
        out = {}
        for level, position in keys:
            row = db.execute(
                "SELECT hash FROM nodes WHERE level = ? AND position = ?", (level, position)
            ).fetchone()
            out[(level, position)] = row[0]
        return out

    size = len(data)
    began = time.perf_counter()
    keys = merkle.Edge.keys(size)
    stored = read(keys)
    root = merkle.fold([stored[k] for k in keys])
    cold_root = time.perf_counter() - began
    began = time.perf_counter()
    ranges = merkle.inclusion_ranges(5, size)
    stored = read(merkle.needed(ranges))
    path = [merkle.range_hash(a, b, stored) for a, b in ranges]
    merkle.verify_inclusion(merkle.leaf_hash(data[5]), 5, size, path, root)
    cold_proof = time.perf_counter() - began
    began = time.perf_counter()
    edge = merkle.Edge(size, [read([k])[k] for k in merkle.Edge.keys(size)])
    new = []
    for i in range(1000):
        new += edge.append(merkle.leaf_hash(b"more %d" % i))
    db.executemany("INSERT INTO nodes VALUES (?, ?, ?)", new)
    db.commit()
    edge.root()
    append = time.perf_counter() - began
    db.close()
    return {
        "build": build,
        "cold root": cold_root,
        "cold proof": cold_proof,
        "+1000 and root": append,
        "root": root,
    }


def theirs(path: str, data: list[bytes]) -> dict:
    from pymerkle import SqliteTree

    began = time.perf_counter()
    with SqliteTree(path) as tree:
        tree.append_entries(data)
    build = time.perf_counter() - began
    with SqliteTree(path) as tree:  # a new process's tree object: nothing cached
        began = time.perf_counter()
        root = tree.get_root()
        cold_root = time.perf_counter() - began
    with SqliteTree(path) as tree:
        began = time.perf_counter()
        tree.prove_inclusion(6)  # pymerkle counts leaves from 1
        cold_proof = time.perf_counter() - began
    with SqliteTree(path) as tree:
        began = time.perf_counter()
        tree.append_entries([b"more %d" % i for i in range(1000)])
        tree.get_root()
        append = time.perf_counter() - began
    return {
        "build": build,
        "cold root": cold_root,
        "cold proof": cold_proof,
        "+1000 and root": append,
        "root": root,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leaves", type=int, default=1_000_000)
    args = parser.parse_args()
    try:
        import pymerkle  # noqa: F401
    except ImportError:
        print("pymerkle is not installed: .venv/bin/pip install pymerkle==7.0.0")
        return 2
    data = [b"audit event %d" % i for i in range(args.leaves)]
    folder = tempfile.mkdtemp(prefix="bench-merkle-")
    print(f"{args.leaves} leaves; load {os.getloadavg()[0]:.1f}")
    a = ours(os.path.join(folder, "ours.db"), data)
    b = theirs(os.path.join(folder, "pymerkle.db"), data)
    assert a["root"] == b["root"], "the two trees disagree"
    for key in ("build", "cold root", "cold proof", "+1000 and root"):
        print(
            f"{key:16s} console/tlog {a[key] * 1000:10.1f} ms   pymerkle SqliteTree {b[key] * 1000:10.1f} ms"
        )
    print(f"same root: {a['root'].hex()}; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
