"""Hash bank jobs. Thin: an app context, then the hash bank's functions, with ids only."""

from __future__ import annotations

from jobs import app_context


def match_media(media_id: int) -> bool:
    """PDQ of an image too large to decode in the request, then matching it against the bank."""
    from console.hashbank import matching

    with app_context():
        return matching.match_media(media_id)


def sweep() -> int:
    """Bank the finished reports the finish hook did not, and the PDQ of banked images without one."""
    from console.hashbank import bank

    with app_context():
        return bank.sweep()
