"""Hash lists an admin imports (CSV), under a source label: all or nothing.

The page takes a list of up to 1 MiB; `flask hashbank import FILE --label …` any size, read line by line and
added in batches inside one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from console import audit, tasks
from console.extensions import db
from console.hashbank import hashing
from console.hashbank.bank import add_entries
from console.hashbank.models import HashSource
from console.text_rules import name_problem

IMPORT_BATCH = 5_000
IMPORT_ERRORS_SHOWN = 20
LABEL_MAX = 200


class ImportRefused(ValueError):
    """Nothing was imported; `problems` says why, by line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


COLUMNS = {
    "algorithm": "algorithm",
    "hash": "value",
    "value": "value",
    "cybertip_id": "cybertip_id",
    # A PDQ hash's quality (0–100) as the list's maker computed it: one below the threshold is refused.
    "quality": "quality",
}


def import_list(data: bytes | Iterable[str], label: str, *, actor=None, actor_label: str = "") -> HashSource:
    """Add a CSV hash list (header: algorithm,hash[,cybertip_id][,quality]) under a source label, all or
    nothing. Malformed and degenerate hashes and PDQ hashes below the quality threshold are refused.

    Raises ImportRefused naming the first problems by line; nothing is added then.
    """
    label = (label or "").strip()
    problem = name_problem(label) if label else "is required"
    if problem or len(label) > LABEL_MAX:
        raise ImportRefused([f"source label: {problem or f'at most {LABEL_MAX} characters'}"])
    lines = _decoded_lines(data)
    source = HashSource(kind="import", label=label, imported_by_id=getattr(actor, "id", None))
    db.session.add(source)
    db.session.flush()
    problems: list[str] = []
    batch: list[dict] = []
    added = rows = 0
    try:
        for entry in _parse_csv(lines, problems):
            rows += 1
            if len(problems) >= IMPORT_ERRORS_SHOWN:
                break
            if problems or entry is None:
                continue  # keep reading, to name more problems at once; add nothing more
            batch.append({"source_id": source.id, **entry})
            if len(batch) >= IMPORT_BATCH:
                added += add_entries(batch)
                batch = []
        if not problems and rows == 0:
            problems.append("the list has no hashes (a header line, then one hash per line)")
        if problems:
            raise ImportRefused(problems[:IMPORT_ERRORS_SHOWN])
        added += add_entries(batch)
        source.entry_count = added
        audit.record(
            "hash_list_imported",
            "hash_source",
            source.id,
            actor=actor,
            actor_label=actor_label if actor is None else "",
            label=label,
            lines=rows,
            added=added,
        )
        tasks.commit_then_enqueue()
    except BaseException:
        db.session.rollback()
        raise
    return source


def _decoded_lines(data: bytes | Iterable[str]) -> Iterator[str]:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ImportRefused(["the file is not UTF-8 text"]) from e
        return iter(io.StringIO(text, newline=""))
    return iter(data)


def _parse_csv(lines: Iterator[str], problems: list[str]) -> Iterator[dict | None]:
    """One entry per line with a hash (None for a line with a problem, which `problems` names)."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        problems.append("the file is empty")
        return
    except csv.Error as e:
        problems.append(f"line 1: not CSV ({e})")
        return
    if "algorithm" not in header or not {"hash", "value"} & set(header):
        problems.append("line 1: the header names the columns: algorithm,hash (and optionally cybertip_id)")
        return
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"line 1: unknown column {unknown[0][:40]!r} (algorithm, hash, cybertip_id, quality)")
        return
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problems.append(f"line {reader.line_num}: not CSV ({e})")
            return
        if not any(c.strip() for c in cells):
            continue
        line = reader.line_num
        if len(cells) != len(header):
            problems.append(f"line {line}: {len(cells)} values for {len(header)} columns")
            yield None
            continue
        named = {COLUMNS[h]: c for h, c in zip(header, cells, strict=True)}
        try:
            algorithm, value = hashing.normalise(named["algorithm"], named["value"])
        except hashing.HashValueError as e:
            problems.append(f"line {line}: {e}")
            yield None
            continue
        quality = (named.get("quality") or "").strip()
        if quality:
            _value, problem = hashing.quality_problem(quality)
            if algorithm != hashing.PDQ:
                problem = "a quality is given for PDQ hashes only"
            if problem:
                problems.append(f"line {line}: quality {problem}")
                yield None
                continue
        cybertip = (named.get("cybertip_id") or "").strip() or None
        if cybertip is not None and not (cybertip.isascii() and cybertip.isdigit() and len(cybertip) <= 18):
            problems.append(f"line {line}: a CyberTip id is a number (up to 18 digits)")
            yield None
            continue
        yield {"algorithm": algorithm, "value": value, "cybertip_id": cybertip}
