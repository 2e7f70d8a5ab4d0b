from __future__ import annotations

from sqlalchemy import func, select, update

from console import audit
from console.accounts import passwords
from console.accounts.models import ROLES, User
from console.extensions import db
from console.text_rules import name_problem

PASSWORD_MIN = 12


def authenticate(email: str, password: str) -> User | None:
    """The user if the email and password match an active account; None otherwise (and says no more)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if not passwords.verify(user.password_hash if user else None, password) or not user or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    audit.record("signed_in", "user", user.id, actor=user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, name: str, password: str, role: str = "moderator") -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if problem := name_problem(name):
        raise ValueError(f"the name {problem}")
    user = User(
        email=email.strip().lower(), name=name, password_hash=passwords.hash_password(password), role=role
    )
    db.session.add(user)
    db.session.flush()
    return user


def _end_sessions(user_id: int) -> None:
    # An increment in SQL, not in Python: two sign-outs at once must both move the version on.
    db.session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )


def sign_out(user: User) -> None:
    """End every session of this user, on every device: a stolen session cookie stops working too."""
    _end_sessions(user.id)
    audit.record("signed_out", "user", user.id, actor=user)
    db.session.commit()


def change_password(user_id: int, password: str, *, actor=None, actor_label: str = "") -> User:
    """Set a new password and end every session that was signed in with the old one."""
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"the password must have at least {PASSWORD_MIN} characters")
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    user.password_hash = passwords.hash_password(password)
    _end_sessions(user.id)
    audit.record("password_changed", "user", user.id, actor=actor, actor_label=actor_label)
    db.session.commit()
    return user


def set_active(user_id: int, active: bool, *, actor=None, actor_label: str = "") -> User:
    """Deactivate (every session ends at once) or reactivate an account."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    if user.active != active:
        user.active = active
        if not active:
            _end_sessions(user.id)
        audit.record(
            "user_activated" if active else "user_deactivated",
            "user",
            user.id,
            actor=actor,
            actor_label=actor_label,
        )
    db.session.commit()
    return user
