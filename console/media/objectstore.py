"""S3-compatible object storage (boto3), for media and evidence when STORAGE_BACKEND is "s3".

The filesystem is the embedded default (one machine); with S3 several web processes and workers, each with
its own instance folder, share one store and nothing reads a path another machine wrote. What the console
asks of the buckets:
- media (S3_MEDIA_BUCKET): a file's bytes under its storage key, its preview under `<key>.preview.png`. A
  machine that needs a path (an upload to NCMEC, a decoder, a download with ranges) fetches a verified copy
  into its own MEDIA_ROOT, used as a cache (media/storage.py); bytes reach a browser only through the
  console, after a recorded reveal: no presigned URL is ever made.
- evidence (S3_EVIDENCE_BUCKET): created with Object Lock enabled (so versioned). Every object is written in
  COMPLIANCE mode, retained until its record's `preserve_until` (extended, never shortened, when the same
  bytes belong to a later record); a legal hold is an S3 legal hold. In compliance mode nobody, not even the
  bucket's owner, can delete a version or shorten its date before then — on real S3. Removing an object
  removes every version (a plain DELETE on a versioned bucket only adds a delete marker).
Uploads and downloads stream (s3transfer's multipart upload, StreamingBody reads): no file is held whole
in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024
_CACHE = "s3_client"


class ObjectStoreError(RuntimeError):
    """The object store refused or failed; the message says what and where."""


def enabled() -> bool:
    return current_app.config.get("STORAGE_BACKEND", "filesystem") == "s3"


def client():
    """One boto3 client per app (they are thread-safe); its settings from the configuration."""
    app = current_app._get_current_object()
    found = app.extensions.get(_CACHE)
    if found is None:
        import boto3
        from botocore.config import Config

        cfg = app.config
        found = boto3.client(
            "s3",
            endpoint_url=cfg.get("S3_ENDPOINT_URL") or None,
            region_name=cfg.get("S3_REGION") or "us-east-1",
            aws_access_key_id=cfg.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=cfg.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                s3={"addressing_style": cfg.get("S3_ADDRESSING_STYLE") or "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        app.extensions[_CACHE] = found
    return found


def bucket(kind: str) -> str:
    name = current_app.config.get("S3_MEDIA_BUCKET" if kind == "media" else "S3_EVIDENCE_BUCKET") or ""
    if not name:
        raise ObjectStoreError(f"STORAGE_BACKEND is s3 but S3_{kind.upper()}_BUCKET is not set")
    return name


def _code(error) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _missing(error) -> bool:
    return _code(error) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


def put(
    kind: str,
    key: str,
    path: Path,
    *,
    content_type: str = "application/octet-stream",
    retain_until: datetime | None = None,
    legal_hold: bool = False,
) -> None:
    """Stream a local file in: multipart above 8 MiB, each part read from the file as it is sent (from a
    path, s3transfer reads parts lazily; from a file object it would read each part into memory), a few parts
    at a time. `retain_until`: Object Lock COMPLIANCE until then."""
    extra: dict = {"ContentType": content_type}
    if retain_until is not None:
        extra["ObjectLockMode"] = "COMPLIANCE"
        extra["ObjectLockRetainUntilDate"] = retain_until.astimezone(UTC)
        extra["ChecksumAlgorithm"] = "SHA256"  # Object Lock writes need an integrity checksum
    if legal_hold:
        extra["ObjectLockLegalHoldStatus"] = "ON"
    try:
        client().upload_file(str(path), bucket(kind), key, ExtraArgs=extra, Config=_transfer())
    except Exception as e:
        raise ObjectStoreError(f"could not store {key} in the {kind} bucket: {e}") from e


def _transfer():
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=8 * CHUNK, multipart_chunksize=8 * CHUNK, max_concurrency=4)


def head(kind: str, key: str) -> dict | None:
    """The object's metadata (size, Object Lock date and legal hold), or None when there is none."""
    from botocore.exceptions import ClientError

    try:
        return client().head_object(Bucket=bucket(kind), Key=key)
    except ClientError as e:
        if _missing(e):
            return None
        raise ObjectStoreError(f"could not look up {key} in the {kind} bucket: {e}") from e


@contextmanager
def reading(kind: str, key: str) -> Iterator[BinaryIO]:
    """The object's bytes as a stream (FileNotFoundError when there is no such object)."""
    from botocore.exceptions import ClientError

    try:
        body = client().get_object(Bucket=bucket(kind), Key=key)["Body"]
    except ClientError as e:
        if _missing(e):
            raise FileNotFoundError(f"{kind}/{key}") from e
        raise ObjectStoreError(f"could not read {key} from the {kind} bucket: {e}") from e
    try:
        yield body
    finally:
        body.close()


def download(kind: str, key: str, out: BinaryIO) -> None:
    with reading(kind, key) as body:
        while chunk := body.read(CHUNK):
            out.write(chunk)


def remove(kind: str, key: str) -> bool:
    """Delete every version of the object (a locked version raises ObjectStoreError). True if any existed."""
    from botocore.exceptions import ClientError

    s3, name, found = client(), bucket(kind), False
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=name, Prefix=key)
        for page in pages:
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if version["Key"] != key:
                    continue
                found = True
                s3.delete_object(Bucket=name, Key=key, VersionId=version["VersionId"])
    except ClientError as e:
        raise ObjectStoreError(f"could not delete {key} from the {kind} bucket: {e}") from e
    return found


def set_legal_hold(kind: str, key: str, on: bool) -> None:
    from botocore.exceptions import ClientError

    try:
        client().put_object_legal_hold(
            Bucket=bucket(kind), Key=key, LegalHold={"Status": "ON" if on else "OFF"}
        )
    except ClientError as e:
        raise ObjectStoreError(f"could not set the legal hold of {key}: {e}") from e


def extend_retention(kind: str, key: str, until: datetime) -> None:
    """Keep the object at least until `until` (COMPLIANCE); a date already later stays as it is."""
    from botocore.exceptions import ClientError

    found = head(kind, key)
    current = (found or {}).get("ObjectLockRetainUntilDate")
    if current is not None and current >= until:
        return
    try:
        client().put_object_retention(
            Bucket=bucket(kind),
            Key=key,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until.astimezone(UTC)},
        )
    except ClientError as e:
        raise ObjectStoreError(f"could not extend the retention of {key}: {e}") from e


def create_buckets() -> None:
    """For development and tests: the media bucket, and the evidence bucket with Object Lock enabled."""
    s3 = client()
    for kind in ("media", "evidence"):
        name = bucket(kind)
        try:
            s3.head_bucket(Bucket=name)
            continue
        except Exception:  # noqa: S110 — absent: created below
            pass
        args = {"Bucket": name}
        region = current_app.config.get("S3_REGION") or "us-east-1"
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if kind == "evidence":
            args["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**args)
