"""Moving a filesystem store to S3: `flask evidence move-to-s3`, every hash checked on both sides.

Run once the configuration says STORAGE_BACKEND=s3 (and the buckets exist, the evidence bucket with Object
Lock), with the old folders (by default MEDIA_ROOT and the evidence folder, which stay as this machine's
cache and scratch space). For each media file, generated file and preserved evidence object, in turn: the
local bytes are hashed and must match the database's SHA-256 (evidence: its name), they are streamed to the
bucket (evidence with COMPLIANCE retention until the latest `preserve_until` of the kept records that hold
it, and an S3 legal hold if a hold covers one of them), and read back from the bucket and hashed again.
Whatever does not match is named and not counted as moved; running the command again moves what is left
(objects already in the bucket are checked, not written twice). Local files are never deleted here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from console.evidence import retention
from console.evidence.models import KEPT_STATES, EvidenceItem, EvidenceRecord
from console.extensions import db
from console.media import objectstore
from console.media.models import MediaFile
from console.reporting.models import ReportFile
from console.timeutil import utcnow

CHUNK = 1024 * 1024


@dataclass
class Moved:
    media: int = 0
    evidence: int = 0
    problems: list[str] = field(default_factory=list)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_object(kind: str, key: str) -> str:
    digest = hashlib.sha256()
    with objectstore.reading(kind, key) as body:
        while chunk := body.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _move(kind: str, key: str, path: Path, sha256: str, problems: list[str], **put) -> bool:
    if not path.exists():
        problems.append(f"{kind} {key}: no file at {path}")
        return False
    local = _hash_file(path)
    if sha256 and local != sha256:
        problems.append(f"{kind} {key}: {path} does not match its SHA-256 ({local}, recorded {sha256})")
        return False
    if objectstore.head(kind, key) is None:
        objectstore.put(kind, key, path, **put)
    elif put.get("retain_until"):
        objectstore.extend_retention(kind, key, put["retain_until"])
    stored = _hash_object(kind, key)
    if stored != local:
        problems.append(f"{kind} {key}: the bucket's copy does not match ({stored}, local {local})")
        return False
    return True


def to_s3(media_root: Path, evidence_root: Path, echo: Callable[[str], None] = lambda _line: None) -> Moved:
    if not objectstore.enabled():
        raise objectstore.ObjectStoreError("set STORAGE_BACKEND=s3 (and the S3_* settings) first")
    moved = Moved()
    files = [(m.storage_key, m.sha256, m.mime_type) for m in db.session.scalars(select(MediaFile))]
    files += [
        (f.storage_key, f.sha256, "text/plain")
        for f in db.session.scalars(select(ReportFile).where(ReportFile.storage_key.is_not(None)))
    ]
    db.session.rollback()
    for key, sha256, mime in dict.fromkeys(files):
        path = media_root / key[:2] / key
        if _move("media", key, path, sha256, moved.problems, content_type=mime):
            moved.media += 1
            echo(f"media    {key} sha256 {sha256} ok")
            preview = path.with_suffix(".preview.png")
            if preview.exists():
                _move("media", key + ".preview.png", preview, "", moved.problems, content_type="image/png")

    now = utcnow()
    kept = db.session.execute(
        select(
            EvidenceItem.sha256,
            func.max(EvidenceRecord.preserve_until),
        )
        .join(EvidenceRecord)
        .where(EvidenceRecord.state.in_(KEPT_STATES))
        .group_by(EvidenceItem.sha256)
        .order_by(EvidenceItem.sha256)
    ).all()
    held = set(
        db.session.scalars(
            select(EvidenceItem.sha256)
            .join(EvidenceRecord)
            .where(EvidenceRecord.state.in_(KEPT_STATES), retention.covering(now))
        )
    )
    db.session.rollback()
    for sha256, until in kept:
        path = evidence_root / sha256[:2] / sha256
        if _move(
            "evidence", sha256, path, sha256, moved.problems, retain_until=until, legal_hold=sha256 in held
        ):
            moved.evidence += 1
            echo(f"evidence {sha256} until {until:%Y-%m-%d}{' (held)' if sha256 in held else ''} ok")
    return moved
