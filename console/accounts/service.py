from __future__ import annotations

from sqlalchemy import func, select

from console import audit
from console.accounts import passwords
from console.accounts.models import ROLES, User
from console.extensions import db


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


def create_user(email: str, name: str, password: str, role: str = "moderator") -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(
        email=email.strip().lower(), name=name, password_hash=passwords.hash_password(password), role=role
    )
    db.session.add(user)
    db.session.flush()
    return user
