"""API tokens for upstream systems: created by an admin, shown once, stored only as a SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from console import audit
from console.api.models import ApiToken
from console.extensions import db
from console.text_rules import name_problem
from console.timeutil import utcnow

TOKEN_PREFIX = "mc_"  # noqa: S105  (a marker that makes leaked tokens easy to scan for, not a secret)
PREFIX_LENGTH = 10  # what the list shows, e.g. "mc_Ab3dEf9"; ApiToken.prefix holds up to 12
# last_used_at is a hint for admins, not an access log: writing it on every request would make each API call
# a write to the same row; once a minute is precise enough to spot a token that is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a process trusts a token it verified without asking the database again (`caller_for`): the API's
# hot path then costs no statement for its caller. A revocation is seen at once by the process that made it
# (revoke_token forgets the token there) and within this many seconds by every other process.
CALLER_CACHE_SECONDS = 5.0


class TokenNameTaken(ValueError):
    """Another active token has this name: audit entries ("api:<name>") would not tell them apart."""


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling the API, detached from the session (which is committed before the body is read)."""

    token_id: int
    name: str

    @property
    def actor_label(self) -> str:
        return f"api:{self.name}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def active_tokens_named(name: str) -> ApiToken | None:
    return db.session.scalar(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)).limit(1)
    )


def create_token(name: str, created_by=None, *, actor_label: str = "") -> tuple[ApiToken, str]:
    """Create a token and return it with the raw secret, which exists nowhere else after this call."""
    name = name.strip()
    if not name:
        raise ValueError("give the token a name")
    if problem := name_problem(name):
        raise ValueError(f"the token's name {problem}")
    if active_tokens_named(name) is not None:
        raise TokenNameTaken(f"an active token is already named {name!r}; choose another name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name[:120],
        token_hash=hash_token(raw),
        prefix=raw[:PREFIX_LENGTH],
        created_by_id=getattr(created_by, "id", None),
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token_created",
        "api_token",
        token.id,
        actor=created_by,
        actor_label=actor_label,
        name=token.name,
        prefix=token.prefix,
    )
    db.session.commit()
    return token, raw


def revoke_token(token_id: int, revoked_by=None) -> ApiToken | None:
    """Revoke once: a compare-and-set on revoked_at IS NULL, so a double click records one revocation."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        return None
    changed = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if changed == 1:
        audit.record(
            "api_token_revoked", "api_token", token_id, actor=revoked_by, name=token.name, prefix=token.prefix
        )
    db.session.commit()
    _forget(token_id)
    return db.session.get(ApiToken, token_id)


def verify_token(raw: str | None) -> ApiCaller | None:
    """The caller behind a bearer token, or None for a missing, unknown or revoked one.

    Ends its transaction before returning: on SQLite every transaction holds the write lock, and the caller
    reads a possibly large request body next.
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = utcnow()
    try:
        # Three columns, not the entity: this runs on every API call, and nothing here changes the token.
        token = db.session.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.last_used_at).where(
                ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None)
            )
        ).first()
        if token is None:
            return None
        caller = ApiCaller(token.id, token.name)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
            db.session.commit()
        return caller
    finally:
        db.session.rollback()


def caller_for(raw: str | None) -> ApiCaller | None:
    """`verify_token`, remembered by this process for CALLER_CACHE_SECONDS (see there); an unknown or
    revoked token is never remembered, so it is asked about every time."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    known = _callers()
    key = hash_token(raw)
    entry = known.get(key)
    now = time.monotonic()
    if entry is not None and entry[1] > now:
        return entry[0]
    caller = verify_token(raw)
    if caller is None:
        known.pop(key, None)
    else:
        known[key] = (caller, now + CALLER_CACHE_SECONDS)
    return caller


def _callers() -> dict[str, tuple[ApiCaller, float]]:
    """The app's remembered callers: token hash → (caller, until when, on the monotonic clock)."""
    return current_app.extensions.setdefault("api_token_callers", {})


def _forget(token_id: int) -> None:
    known = _callers()
    for key, (caller, _until) in list(known.items()):
        if caller.token_id == token_id:
            known.pop(key, None)


def list_tokens() -> list[ApiToken]:
    """Active tokens first, newest first within each group."""
    return list(
        db.session.scalars(
            select(ApiToken).order_by(
                ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
            )
        )
    )
