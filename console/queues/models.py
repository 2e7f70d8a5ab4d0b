from __future__ import annotations

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db

# The kinds of source a queue is fed by; also recorded on each case.
SOURCE_KINDS = {
    "user_report": "User reports",
    "trusted_flagger": "Trusted flagger",
    "lea_request": "Law-enforcement request",
    "proactive": "Proactive detection",
    "ai_review": "AI review",
}


class Queue(db.Model):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    source_kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(500), default="")
    # A counter kept in the same transaction as every case that enters or leaves the queue: an exact
    # count(*) over a large queue is far too slow for a page render.
    open_cases: Mapped[int] = mapped_column(default=0)
    # Set by admins: every case in this queue is child-safety material (console/childsafety/access.py).
    child_safety: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def source_label(self) -> str:
        return SOURCE_KINDS.get(self.source_kind, self.source_kind)
