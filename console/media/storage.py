"""Media files on disk: streamed in, fingerprinted (SHA-256 and MD5) once, checked, previewed safely.

What a file must be to be accepted:
- an image: Pillow reads its header, the declared size is at most MEDIA_MAX_PIXELS, and the format is one of
  the four the console shows; the pixels are decoded only for the preview, and a large image's preview is made
  by a worker (a web process serves several uploads at once and keeps memory it once used);
- video and audio: FFmpeg (PyAV) parses the container with the demuxer of the declared type only, finds a
  stream of the declared kind and reads its first packet. Only that demuxer: a probing FFmpeg would also open
  playlists and concat lists, which name other files and URLs.
Files and folders are created for the console's user only (0600/0700).

Where the bytes live: under MEDIA_ROOT (the filesystem, the default), or in S3-compatible object storage
(STORAGE_BACKEND=s3, objectstore.py), where MEDIA_ROOT is this machine's cache: a file is checked here, then
streamed to the bucket; `path_for` hands a verified local copy to whatever needs a path (an upload to NCMEC,
a decoder, a download with ranges), fetched again when it is missing, and gone when the store's copy is.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, UnidentifiedImageError

from console.extensions import db
from console.media import objectstore
from console.media.models import MediaFile
from console.text_rules import echo, shown

log = logging.getLogger(__name__)

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
# Pillow's format name → the type the file is stored and served as.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# The one FFmpeg demuxer each video/audio type is parsed with.
DEMUXERS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "matroska",
    "audio/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/webm": "matroska",
}
PREVIEW_SIZE = 24  # pixels: enough to place the file, too few to show what it depicts
PREVIEW_JOB = "jobs.media.make_preview"
# A video's poster: the frame a second in (the first is often black), decoding at most this many frames.
POSTER_AT_SECONDS = 1.0
POSTER_MAX_FRAMES = 120


class MediaError(ValueError):
    """A file the console cannot accept; the message is shown to the person or system that sent it."""


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


PREVIEW_SUFFIX = ".preview.png"


def _local(key: str) -> Path:
    return media_root() / key[:2] / key


def path_for(media: MediaFile) -> Path:
    """A local path to a file's bytes: a media file's, or a generated file's (any row with a ``storage_key``).

    On the filesystem, the file itself. With S3, a copy in this machine's cache, fetched (and checked against
    the row's SHA-256) when it is not here; when the store no longer has the file, the path does not exist.
    """
    local = _local(media.storage_key)
    if objectstore.enabled():
        _fetch(media.storage_key, local, getattr(media, "sha256", "") or "")
    return local


def preview_path_for(media: MediaFile) -> Path:
    local = _local(media.storage_key).with_suffix(PREVIEW_SUFFIX)
    if objectstore.enabled():
        _fetch(media.storage_key + PREVIEW_SUFFIX, local, "")
    return local


def _fetch(key: str, local: Path, sha256: str) -> None:
    """Bring the object to `local` unless an intact copy is there; drop the copy if the object is gone."""
    info = objectstore.head("media", key)
    if info is None:
        local.unlink(missing_ok=True)
        return
    if local.exists() and local.stat().st_size == info["ContentLength"]:
        return
    _private_dirs(local.parent)
    partial = local.with_name(f"{local.name}.{secrets.token_hex(4)}.part")
    digest = hashlib.sha256()
    try:
        with _create_private(partial) as out, objectstore.reading("media", key) as body:
            while chunk := body.read(1024 * 1024):
                digest.update(chunk)
                out.write(chunk)
        if sha256 and digest.hexdigest() != sha256:
            raise OSError(f"media {key}: the stored bytes do not match their SHA-256")
        os.replace(partial, local)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def open_stored(key: str) -> Iterator[BinaryIO]:
    """A stored file's bytes as a stream, from wherever they live (FileNotFoundError when gone)."""
    if objectstore.enabled():
        with objectstore.reading("media", key) as body:
            yield body
        return
    with open(_local(key), "rb") as stream:
        yield stream


def _push(local: Path, key: str, mime_type: str) -> None:
    if objectstore.enabled():
        objectstore.put("media", key, local, content_type=mime_type)


def _private_dirs(path: Path) -> None:
    for folder in (media_root(), path):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _create_private(path: Path):
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def store(case_id: int, original_name: str, stream: BinaryIO, mime_type: str) -> MediaFile:
    """Write the file, hash it, check it is what it claims to be, and add its row to the session.

    On any error nothing is left behind: the caller's transaction is not committed and the bytes are removed.
    A large image's row has ``preview_pending`` set: enqueue_previews() after the commit makes its preview.
    """
    name = shown(original_name or "file")
    mime_type = (mime_type or "").split(";")[0].strip().lower()
    kind = ALLOWED.get(mime_type)
    if kind is None:
        claimed = echo(mime_type or "unknown", 40)
        raise MediaError(f"{name}: type {claimed} is not accepted (images, video, audio)")
    key = secrets.token_urlsafe(24)
    target = media_root() / key[:2] / key
    _private_dirs(target.parent)
    # MD5 only because NCMEC's upload answers with one, to compare: not for security.
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    preview_pending = False
    try:
        with _create_private(target) as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise MediaError(f"{name}: larger than {limit} bytes")
                sha256.update(chunk)
                md5.update(chunk)
                out.write(chunk)
        if size == 0:
            raise MediaError(f"{name}: the file is empty")
        if kind == "image":
            mime_type, inline = _check_image(target, name)
            if inline:
                _write_preview(target, name)
            preview_pending = not inline
        else:
            _check_container(target, kind, mime_type, name)
            # A video's poster frame is decoded by a worker too: a video codec in a web process is costly.
            preview_pending = kind == "video"
        _push(target, key, mime_type)  # with S3: into the bucket; the preview went with _save_preview
    except BaseException:
        target.unlink(missing_ok=True)
        target.with_suffix(PREVIEW_SUFFIX).unlink(missing_ok=True)
        if objectstore.enabled():
            remove_key(key)
        raise
    media = MediaFile(
        case_id=case_id,
        storage_key=key,
        original_name=original_name or "file",
        mime_type=mime_type,
        kind=kind,
        size=size,
        sha256=sha256.hexdigest(),
        md5=md5.hexdigest(),
        has_preview=kind == "image" and not preview_pending,
    )
    media.preview_pending = preview_pending  # not a column: read by enqueue_previews() after the commit
    db.session.add(media)
    return media


@dataclass(frozen=True)
class Digests:
    key: str  # where store_generated keeps the bytes: their SHA-256
    sha256: str
    md5: str
    size: int


def digests(data: bytes) -> Digests:
    sha256 = hashlib.sha256(data).hexdigest()
    # MD5 only because NCMEC's upload answers with one, to compare: not for security.
    return Digests(sha256, sha256, hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data))


def store_generated(data: bytes) -> Digests:
    """Keep bytes the console wrote itself (a report's chat transcript) beside the media, by their SHA-256.

    The same bytes are stored once; path_for(row) finds them through the row's ``storage_key``. Not checked
    as media are: nobody outside sent them.
    """
    found = digests(data)
    target = media_root() / found.key[:2] / found.key
    _private_dirs(target.parent)
    if not target.exists():
        partial = target.with_name(f"{found.key}.{secrets.token_hex(4)}.part")
        with _create_private(partial) as out:
            out.write(data)
        os.replace(partial, target)
    if objectstore.enabled() and objectstore.head("media", found.key) is None:
        _push(target, found.key, "text/plain")
    return found


def enqueue_previews(stored: list[MediaFile]) -> None:
    """After the commit: the worker makes the previews that were too large to make in the request."""
    from console import tasks

    for media in stored:
        if getattr(media, "preview_pending", False):
            tasks.enqueue(PREVIEW_JOB, media.id, job_id=f"preview-{media.id}")


def _open_image(path: Path) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns from 89 Mpx and refuses from 179 Mpx; the console's own limit (below) is lower.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def _check_image(target: Path, name: str) -> tuple[str, bool]:
    """The image's real type, and whether its preview is cheap enough to make now. Decodes no pixels."""
    max_pixels = current_app.config["MEDIA_MAX_PIXELS"]
    try:
        with _open_image(target) as img:
            fmt, (width, height) = img.format, img.size
            if fmt not in IMAGE_FORMATS:
                raise MediaError(f"{name}: {fmt} images are not accepted (JPEG, PNG, GIF, WebP)")
            if width * height > max_pixels:
                raise MediaError(
                    f"{name}: {width}×{height} pixels is more than this console accepts "
                    f"({max_pixels // 1_000_000} megapixels)"
                )
            # Structure only (PNG: every chunk's checksum); the pixels stay compressed.
            img.verify()
    except Image.DecompressionBombError as e:
        raise MediaError(f"{name}: more pixels than this console accepts") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, MediaError):
            raise
        raise MediaError(f"{name}: not a readable image ({e.__class__.__name__})") from e
    # JPEG decodes at 1/8 scale for a small preview (draft mode): cheap at any size.
    inline = fmt == "JPEG" or width * height <= current_app.config["MEDIA_INLINE_PREVIEW_PIXELS"]
    return IMAGE_FORMATS[fmt], inline


def _write_preview(target: Path, name: str) -> None:
    try:
        with _open_image(target) as img:
            img.draft("L", (PREVIEW_SIZE * 4, PREVIEW_SIZE * 4))
            small = img.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise MediaError(f"{name}: not a readable image ({e.__class__.__name__})") from e
    _save_preview(target, small)


def _save_preview(target: Path, small: Image.Image) -> None:
    small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    buf = io.BytesIO()
    small.save(buf, "PNG")
    preview = target.with_suffix(PREVIEW_SUFFIX)
    preview.unlink(missing_ok=True)
    with _create_private(preview) as out:
        out.write(buf.getvalue())
    _push(preview, target.name + PREVIEW_SUFFIX, "image/png")


def make_preview(media_id: int) -> bool:
    """The worker's half of a large image or a video: decode it (once, in a process that ends) and write the
    preview, for a video its poster frame."""
    media = db.session.get(MediaFile, media_id)
    if media is None or media.kind not in ("image", "video") or media.has_preview:
        return False
    path = path_for(media)
    try:
        if media.kind == "video":
            _write_poster(path, media.mime_type, shown(media.original_name))
            media.has_preview = True
            db.session.commit()
            return True
        with _open_image(path) as img:
            width, height = img.size
        if width * height > current_app.config["MEDIA_MAX_PIXELS"]:
            return False
        _write_preview(path, shown(media.original_name))
    except (MediaError, OSError) as e:
        # The file was accepted as an image but its pixels do not decode: the page shows no preview.
        log.warning("media %s: no preview (%s)", media_id, e)
        return False
    media.has_preview = True
    db.session.commit()
    return True


def _write_poster(target: Path, mime_type: str, name: str) -> None:
    """A video's preview: one frame, scaled down by FFmpeg before Pillow sees it (the full-size picture never
    exists as an image), stored as an image's preview is: 24 px, grayscale, shown blurred."""
    import av

    frame = first = None
    try:
        with av.open(str(target), mode="r", format=DEMUXERS[mime_type]) as container:
            for n, decoded in enumerate(container.decode(container.streams.video[0])):
                frame = decoded
                first = decoded.time if first is None else first
                if n >= POSTER_MAX_FRAMES or (decoded.time or 0) - (first or 0) >= POSTER_AT_SECONDS:
                    break
            if frame is None:
                raise MediaError(f"{name}: no video frame to make a poster from")
            scale = PREVIEW_SIZE * 4 / max(frame.width, frame.height, 1)
            width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
            small = frame.to_image(width=width, height=height).convert("L")
    except (av.FFmpegError, IndexError) as e:
        raise MediaError(f"{name}: no poster frame ({e.__class__.__name__})") from e
    _save_preview(target, small)


def _check_container(target: Path, kind: str, mime_type: str, name: str) -> None:
    import av

    max_pixels = current_app.config["MEDIA_MAX_PIXELS"]
    try:
        with av.open(str(target), mode="r", format=DEMUXERS[mime_type]) as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                raise MediaError(f"{name}: no {kind} stream in this {mime_type} file")
            stream = streams[0]
            if kind == "video":
                width, height = stream.codec_context.width, stream.codec_context.height
                if width * height > max_pixels:
                    raise MediaError(f"{name}: {width}×{height} video is larger than this console accepts")
            # demux() ends with empty flush packets: look for one that carries data.
            if not any(packet.size for packet in container.demux(stream)):
                raise MediaError(f"{name}: the {kind} stream holds no data")
    except av.FFmpegError as e:
        raise MediaError(f"{name}: not a readable {mime_type} file ({e.__class__.__name__})") from e


def remove_files(media: MediaFile) -> None:
    remove_key(media.storage_key)


def remove_key(key: str) -> None:
    """A stored file and its preview gone: from the store, and from this machine's cache."""
    local = _local(key)
    local.unlink(missing_ok=True)
    local.with_suffix(PREVIEW_SUFFIX).unlink(missing_ok=True)
    if objectstore.enabled():
        objectstore.remove("media", key)
        objectstore.remove("media", key + PREVIEW_SUFFIX)
