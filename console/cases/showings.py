"""Which real bytes a page may show: one short-lived token per recorded reveal.

A reveal (cases.service.reveal) writes a MediaView row; the page that asked for it gets a token naming that
row, and the file's bytes are served only with a valid one (cases.views.media_file). So every showing of real
bytes belongs to a recorded reveal made on that page view: a reload, another tab, the back button or a link
to the file starts hidden and blurred again (the second outside sweep found a revealed file coming back
unblurred after a reload, with no new record). The bytes go out with `Cache-Control: no-store`, so the
browser cannot show them again from its cache either.

The token is signed with the app's secret (itsdangerous) and names the reveal, the file and the person; it
lasts REVEAL_TOKEN_SECONDS, long enough for a video's range requests, after which "Reveal again" — another
recorded reveal — is the way to look again.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from console.extensions import db
from console.media.models import MediaView

_SALT = "media-reveal"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def token_for(view: MediaView) -> str:
    return _serializer().dumps([view.id, view.media_id, view.user_id])


def reveal_for(token: str | None, media_id: int, user_id: int) -> int | None:
    """The id of the recorded reveal the token names, when it is this person's, of this file, and recent;
    else None (the bytes are not served)."""
    if not token or len(token) > 200:
        return None
    try:
        view_id, token_media, token_user = _serializer().loads(
            token, max_age=current_app.config["REVEAL_TOKEN_SECONDS"]
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if (token_media, token_user) != (media_id, user_id) or not isinstance(view_id, int):
        return None
    found = db.session.scalar(
        select(MediaView.id).where(
            MediaView.id == view_id, MediaView.media_id == media_id, MediaView.user_id == user_id
        )
    )
    return found
