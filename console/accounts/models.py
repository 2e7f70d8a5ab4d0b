from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

ROLES = ("moderator", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="moderator")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id: raising it (sign-out, password change, deactivation) ends every session
    # of this user at once, although the session itself lives in a signed cookie the server cannot delete.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Child-safety material (reported or reportable to NCMEC) is shown only to holders: the law asks a
    # provider to keep the people who see it as few as possible (18 U.S.C. §2258B(c)). Admins grant and
    # revoke it, recorded (console/childsafety); it is read on every request, so a revocation applies at once.
    child_safety_access: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The team an admin put this person in: admins see exposure totals per team, never per person.
    team: Mapped[str] = mapped_column(String(80), default="", server_default="")

    def get_id(self) -> str:  # Flask-Login: what the session stores
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot sign in.
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        # Admins can also moderate.
        return self.role == role or self.role == "admin"
