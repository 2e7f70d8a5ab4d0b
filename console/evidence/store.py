"""The evidence store: files named by their SHA-256, in a folder of their own, never under MEDIA_ROOT.

With STORAGE_BACKEND=s3 the files are objects of the evidence bucket, named by their SHA-256 too, each
written with Object Lock in COMPLIANCE mode until its record's `preserve_until` and an S3 legal hold while a
legal hold covers it (console/media/objectstore.py); the folder is then only this machine's scratch space.
What follows describes the filesystem.

Deleting a case's media, taking content down or the media retention job never touch it: they work under
MEDIA_ROOT, and the store refuses to live there. A file is written to a temporary name, synced, and then
renamed to its hash: a file under a hash's name always holds exactly those bytes (a crash leaves at most a
temporary file, removed by the next write). Files are 0600, folders 0700, like media.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from console.media import objectstore

CHUNK = 1024 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")


class StoreError(RuntimeError):
    """The evidence store is misconfigured (e.g. placed under MEDIA_ROOT)."""


@dataclass(frozen=True)
class Stored:
    sha256: str
    md5: str
    size: int
    created: bool  # False: those bytes were already in the store
    kept: bool = True  # False: refused by `expect` (not what was expected), nothing stored


def root() -> Path:
    cfg = current_app.config
    folder = Path(cfg.get("EVIDENCE_ROOT") or Path(cfg["INSTANCE_PATH"]) / "evidence").resolve()
    media = Path(cfg["MEDIA_ROOT"]).resolve()
    if folder == media or folder.is_relative_to(media):
        raise StoreError(f"EVIDENCE_ROOT ({folder}) must not be inside MEDIA_ROOT ({media})")
    return folder


def scratch() -> Path:
    """A private local folder for work on evidence (a package being assembled): never a shared /tmp."""
    folder = root()
    _private_dir(folder)
    return folder


def path_for(sha256: str) -> Path:
    if not _HASH.fullmatch(sha256):
        raise ValueError("not a SHA-256")
    return root() / sha256[:2] / sha256


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def put_stream(
    stream: BinaryIO, retain_until: datetime | None = None, expect: tuple[str, str] | None = None
) -> Stored:
    """Copy a stream into the store; returns its hashes. The same bytes twice are stored once.

    `retain_until`: with S3, the object is locked (COMPLIANCE) until then; bytes already stored are kept at
    least as long. The filesystem has no such lock: the purge (retention.py) is what keeps the date.
    `expect`: (SHA-256, MD5 or ""): bytes that hash otherwise are not stored (`kept` False) — checked before
    they reach the store, since a locked object of the wrong bytes could not be taken back.
    """
    base = root()
    _private_dir(base)
    tmp = base / f".incoming-{secrets.token_hex(8)}"
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := stream.read(CHUNK):
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        digest = sha256.hexdigest()
        if expect is not None and (digest != expect[0] or (expect[1] and md5.hexdigest() != expect[1])):
            return Stored(digest, md5.hexdigest(), size, False, kept=False)
        if objectstore.enabled():
            return _put_object(tmp, digest, md5.hexdigest(), size, retain_until)
        target = path_for(digest)
        _private_dir(target.parent)
        created = not target.exists()
        if created:
            os.replace(tmp, target)
            _sync_dir(target.parent)
        return Stored(digest, md5.hexdigest(), size, created)
    finally:
        tmp.unlink(missing_ok=True)


def _put_object(tmp: Path, digest: str, md5: str, size: int, retain_until: datetime | None) -> Stored:
    if retain_until is None:
        raise StoreError("evidence goes to the object store with its retention date")
    if objectstore.head("evidence", digest) is not None:
        objectstore.extend_retention("evidence", digest, retain_until)
        return Stored(digest, md5, size, False)
    objectstore.put("evidence", digest, tmp, retain_until=retain_until)
    return Stored(digest, md5, size, True)


def put_bytes(data: bytes, retain_until: datetime | None = None) -> Stored:
    import io

    return put_stream(io.BytesIO(data), retain_until)


def put_file(path: Path, retain_until: datetime | None = None) -> Stored:
    with open(path, "rb") as stream:
        return put_stream(stream, retain_until)


def open_blob(sha256: str) -> AbstractContextManager[BinaryIO]:
    """The stored bytes, streamed (`with store.open_blob(h) as f`); FileNotFoundError when gone."""
    if objectstore.enabled():
        if not _HASH.fullmatch(sha256):
            raise ValueError("not a SHA-256")
        return objectstore.reading("evidence", sha256)
    return open(path_for(sha256), "rb")


def exists(sha256: str) -> bool:
    if objectstore.enabled():
        return objectstore.head("evidence", sha256) is not None
    return path_for(sha256).exists()


def set_hold(sha256: str, on: bool) -> None:
    """With S3, the object's legal hold (a filesystem has none: the purge checks the console's holds)."""
    if objectstore.enabled() and exists(sha256):
        objectstore.set_legal_hold("evidence", sha256, on)


def locks_objects() -> bool:
    return objectstore.enabled()


def check(sha256: str) -> bool:
    """True when the stored bytes still hash to their name."""
    digest = hashlib.sha256()
    try:
        with open_blob(sha256) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return False
    return digest.hexdigest() == sha256


def remove(sha256: str) -> bool:
    if objectstore.enabled():
        if not exists(sha256):
            return False
        objectstore.set_legal_hold("evidence", sha256, False)  # the console's holds no longer cover it
        return objectstore.remove("evidence", sha256)
    path = path_for(sha256)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def _sync_dir(path: Path) -> None:
    # The rename is durable only once the folder is synced (a power cut must not lose preserved evidence).
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
