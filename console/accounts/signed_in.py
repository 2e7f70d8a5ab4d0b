"""The signed-in user as a request sees it: a short-lived copy held in Redis, not a row read per request.

Every request needs the user (their role, the child-safety permission, the session version that ends a
session at sign-out). Reading the row cost a round trip and an ORM object on every page. The copy is one
Redis GET away, and it is never trusted past a change:

- Each copy is tagged with the user's *generation* and the console's, read in the same MGET as the copy. Any
  change to a user — an ORM change of the row (permission, team, role, active) or a bulk UPDATE of `users`
  (sign-out, password change: the session version; `WHERE users.id = …` names the user, any other UPDATE
  or DELETE of `users`, even in raw SQL, moves the console's generation) — increments the generation after
  its commit (`_after_commit`), so the copy made before it no longer matches and the very next request
  reads the row. The generation read *before* the row is the one a new copy carries: a copy made from a
  row read before a change's commit is stale as soon as that change increments the generation (no window
  where an old copy can be written over a newer invalidation).
- A copy lives `SIGNED_IN_SECONDS` (default 30 s) at most, whatever happens to Redis in between.
- A request that may change something (anything but GET, HEAD, OPTIONS) reads the row itself, whatever the
  copy says: a write is authorised by the database, and the copy is refreshed from it.
- Redis unreachable: the row is read, as before the copy existed.

The navigation a person sees depends only on what the copy holds (role, permission): it is built once per
copy (`navigation`) and kept with it, so it is invalidated with it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import Delete, Update, event, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, TextClause

from console import tasks
from console.accounts.models import User
from console.extensions import db

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_COLUMNS = (
    User.id,
    User.email,
    User.name,
    User.role,
    User.active,
    User.session_version,
    User.child_safety_access,
    User.team,
)
_CHANGED = "console.users_changed"  # session.info: user ids (or ALL) changed in the open transaction
ALL = "*"


@dataclass(frozen=True, slots=True)
class NavLink:
    endpoint: str
    label: str
    url: str


@dataclass(slots=True)
class SignedInUser:
    """What Flask-Login's `current_user` is: the columns of a `users` row that requests read (no password
    hash). Services take it as an actor like the row (they read `.id`, `.name`, `.email`)."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    session_version: int
    child_safety_access: bool
    team: str
    nav: list[NavLink] = field(default_factory=list)

    # Flask-Login's protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        return self.role == role or self.role == "admin"

    def __eq__(self, other) -> bool:
        return getattr(other, "id", None) == self.id and isinstance(other, SignedInUser | User)

    def __hash__(self) -> int:
        return hash(self.id)


# --- the copy ---------------------------------------------------------------------------------------------


def _prefix(app: Flask) -> str:
    return app.config["SIGNED_IN_KEY_PREFIX"]


def _keys(app: Flask, user_id: int) -> tuple[str, str, str]:
    p = _prefix(app)
    return f"{p}:signed-in:{user_id}", f"{p}:signed-in-gen:{user_id}", f"{p}:signed-in-gen"


def load(user_id: int, version: int, *, method: str, build_nav) -> SignedInUser | None:
    """The user for a session naming (user_id, version), or None when that session has ended: no such user,
    deactivated, or another session version (signed out, password changed). `build_nav(user)` makes the
    navigation of a fresh copy."""
    app = current_app._get_current_object()
    copy_key, user_gen_key, all_gen_key = _keys(app, user_id)
    generations = None
    conn = None
    try:
        conn = tasks.redis_connection(app)
        raw, user_gen, all_gen = conn.mget(copy_key, user_gen_key, all_gen_key)
        generations = [int(user_gen or 0), int(all_gen or 0)]
        if raw is not None and method in SAFE_METHODS:
            held = json.loads(raw)
            if held["gen"] == generations:
                user = _from_json(held["user"])
                return user if user.active and user.session_version == version else None
    except (redis.RedisError, ValueError, KeyError, TypeError):
        log.warning("signed-in copy unavailable for user %s; reading the row", user_id, exc_info=True)
        conn = None
    row = db.session.execute(select(*_COLUMNS).where(User.id == user_id)).first()
    if row is None:
        return None
    user = SignedInUser(*row)
    user.nav = build_nav(user)
    if conn is not None:
        try:
            payload = json.dumps({"gen": generations, "user": asdict(user)}, separators=(",", ":"))
            conn.set(copy_key, payload, ex=app.config["SIGNED_IN_SECONDS"])
        except redis.RedisError:
            log.warning("could not keep the signed-in copy of user %s", user_id, exc_info=True)
    return user if user.active and user.session_version == version else None


def _from_json(values: dict) -> SignedInUser:
    nav = [NavLink(**link) for link in values.pop("nav", [])]
    return SignedInUser(**values, nav=nav)


def invalidate(user_ids, app: Flask | None = None) -> None:
    """Make every copy of these users (or of everyone, with ALL) stale: the next request reads the row."""
    app = app or current_app._get_current_object()
    try:
        pipe = tasks.redis_connection(app).pipeline(transaction=False)
        for user_id in user_ids:
            key = _keys(app, 0)[2] if user_id == ALL else _keys(app, user_id)[1]
            pipe.incr(key)
        pipe.execute()
    except redis.RedisError:
        # The copies still die within SIGNED_IN_SECONDS, and writes always read the row.
        log.error("could not invalidate the signed-in copies of %s", sorted(map(str, user_ids)), exc_info=1)


# --- what changes users: noted in the transaction, invalidated after its commit ---------------------------


def _note(session: Session, ids) -> None:
    session.info.setdefault(_CHANGED, set()).update(ids)


def _after_flush(session: Session, _context) -> None:
    changed = [
        obj.id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, User) and obj.id is not None
    ]
    if changed:
        _note(session, changed)


def _on_execute(state) -> None:
    statement = state.statement
    if isinstance(statement, Update | Delete):
        if statement.table.name == User.__tablename__:
            _note(state.session, [_one_user(statement.whereclause)])
    elif isinstance(statement, TextClause):
        text = statement.text.lower()
        if "users" in text and ("update" in text or "delete" in text):
            _note(state.session, [ALL])


def _one_user(where) -> int | str:
    """The user a `WHERE users.id = <value>` names (sign-out, password change); else ALL."""
    if (
        isinstance(where, BinaryExpression)
        and where.operator is operators.eq
        and User.__table__.c.id.shares_lineage(where.left)
        and isinstance(where.right, BindParameter)
        and isinstance(where.right.value, int)
    ):
        return where.right.value
    return ALL


def _after_commit(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed and has_app_context() and current_app.config.get("REDIS_URL"):
        invalidate(changed)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "do_orm_execute", _on_execute)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
