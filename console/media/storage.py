"""Media files on disk: streamed in, fingerprinted (SHA-256 and MD5) once, checked, previewed safely."""

from __future__ import annotations

import hashlib
import io
import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, UnidentifiedImageError

from console.extensions import db
from console.media.models import MediaFile

ALLOWED = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "video/mp4": "video",
    "video/webm": "video",
    "video/quicktime": "video",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/x-wav": "audio",
    "audio/ogg": "audio",
    "audio/webm": "audio",
    "audio/mp4": "audio",
}
# Leading bytes of the container formats we accept for video and audio (images are checked by Pillow).
SIGNATURES = {
    "video": (b"\x1aE\xdf\xa3", b"ftyp"),
    "audio": (b"RIFF", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"OggS", b"\x1aE\xdf\xa3", b"ftyp"),
}
PREVIEW_SIZE = 24  # pixels: enough to place the file, too few to show what it depicts


class MediaError(ValueError):
    """A file the console cannot accept; the message is shown to the person or system that sent it."""


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def path_for(media: MediaFile) -> Path:
    return media_root() / media.storage_key[:2] / media.storage_key


def preview_path_for(media: MediaFile) -> Path:
    return path_for(media).with_suffix(".preview.png")


def store(case_id: int, original_name: str, stream: BinaryIO, mime_type: str) -> MediaFile:
    """Write the file, hash it, check it is what it claims to be, and add its row to the session.

    On any error nothing is left behind: the caller's transaction is not committed and the bytes are removed.
    """
    mime_type = (mime_type or "").split(";")[0].strip().lower()
    kind = ALLOWED.get(mime_type)
    if kind is None:
        raise MediaError(
            f"{original_name}: type {mime_type or 'unknown'} is not accepted (images, video, audio)"
        )
    key = secrets.token_urlsafe(24)
    target = media_root() / key[:2] / key
    target.parent.mkdir(parents=True, exist_ok=True)
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    try:
        with open(target, "wb") as out:
            head = b""
            while chunk := stream.read(1024 * 1024):
                if len(head) < 16:
                    head += chunk[:16]
                size += len(chunk)
                if size > limit:
                    raise MediaError(f"{original_name}: larger than {limit} bytes")
                sha256.update(chunk)
                md5.update(chunk)
                out.write(chunk)
        if size == 0:
            raise MediaError(f"{original_name}: the file is empty")
        has_preview = False
        if kind == "image":
            _write_preview(target, original_name)
            has_preview = True
        elif not any(sig in head[:12] for sig in SIGNATURES[kind]):
            raise MediaError(f"{original_name}: not a readable {kind} file")
    except BaseException:
        target.unlink(missing_ok=True)
        target.with_suffix(".preview.png").unlink(missing_ok=True)
        raise
    media = MediaFile(
        case_id=case_id,
        storage_key=key,
        original_name=(original_name or "file")[:255],
        mime_type=mime_type,
        kind=kind,
        size=size,
        sha256=sha256.hexdigest(),
        md5=md5.hexdigest(),
        has_preview=has_preview,
    )
    db.session.add(media)
    return media


def _write_preview(target: Path, original_name: str) -> None:
    try:
        with Image.open(target) as img:
            img.verify()
        with Image.open(target) as img:
            img.draft("L", (PREVIEW_SIZE * 4, PREVIEW_SIZE * 4))
            small = img.convert("L")
            small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
            buf = io.BytesIO()
            small.save(buf, "PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise MediaError(f"{original_name}: not a readable image ({e.__class__.__name__})") from e
    target.with_suffix(".preview.png").write_bytes(buf.getvalue())


def remove_files(media: MediaFile) -> None:
    path_for(media).unlink(missing_ok=True)
    preview_path_for(media).unlink(missing_ok=True)
