"""What Settings → Child safety lists: the people, the queues. Nothing here changes a row."""

from __future__ import annotations

from sqlalchemy import select

from console.accounts.models import User
from console.extensions import db
from console.queues.models import Queue


def people() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.name, User.id)))


def queues() -> list[Queue]:
    return list(db.session.scalars(select(Queue).order_by(Queue.name)))


def child_safety_queues() -> list[Queue]:
    return [q for q in queues() if q.child_safety]
