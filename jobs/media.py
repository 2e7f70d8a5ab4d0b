"""Jobs for media. Thin: an app context, then the media service, with ids only."""

from __future__ import annotations

from jobs import app_context


def make_preview(media_id: int) -> bool:
    """A large image's blurred preview or a video's poster, decoded here, never in the web process."""
    from console.media import storage

    with app_context():
        return storage.make_preview(media_id)
