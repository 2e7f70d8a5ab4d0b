"""A moderator's unfinished decision note, kept on the server while the case page is open.

The page sends the note with every renewal of its claim (and when it is left), so a claim that runs out, a
closed tab or a lost connection never loses what the moderator wrote: the note comes back the next time they
open the case. A decision discards the case's drafts. These functions add to the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from console.cases.models import CaseDraft
from console.extensions import db
from console.timeutil import utcnow


def save(case_id: int, user_id: int, note: str) -> None:
    if not note.strip():
        db.session.execute(
            delete(CaseDraft).where(CaseDraft.case_id == case_id, CaseDraft.user_id == user_id)
        )
        return
    now = utcnow()
    # An upsert: the page's renewals and its leaving may arrive together (two tabs of one person, too).
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(CaseDraft).values(case_id=case_id, user_id=user_id, note=note, updated_at=now)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[CaseDraft.case_id, CaseDraft.user_id], set_={"note": note, "updated_at": now}
        )
    )


def note_of(case_id: int, user_id: int) -> str:
    return (
        db.session.scalar(
            select(CaseDraft.note).where(CaseDraft.case_id == case_id, CaseDraft.user_id == user_id)
        )
        or ""
    )


def discard(case_id: int) -> None:
    db.session.execute(delete(CaseDraft).where(CaseDraft.case_id == case_id))
