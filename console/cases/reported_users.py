"""The reported user as the platform describes them, over time: what each answer of the platform adds.

Ingestion (console/api/ingestion.py) and any later answer of the platform's about its user record through
here, after checking the values by the same rules (console/api/platform_details.py): the user has one shape,
whoever told the console. ``record_user_details`` changes an ORM object; ``save_user`` writes the row with
one Core statement (ingestion's hot path), or none when nothing changed. Both merge the same way
(``merged_ip_events``, ``merged_details``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update

from console.cases.models import ReportedUser
from console.extensions import db

# The reported user's details that grow as the platform tells more (a device seen again is kept once); every
# other detail is replaced by the newer one.
_GROWING_DETAILS = ("phones", "emails", "addresses", "device_ids", "associated_accounts")
# Who the user is: a value given replaces the known one, an empty one keeps it.
IDENTITY_FIELDS = ("name", "email", "screen_name", "profile_url")

USERS = ReportedUser.__table__
INSERT_USER = insert(USERS).returning(USERS.c.id)


def merged_ip_events(known: list | None, new: list) -> list | None:
    """The IP events with the new ones added (each kept once), or None when nothing is new."""
    known = list(known or [])
    added = [e for e in new if e not in known]
    return [*known, *added] if added else None


def merged_details(known: dict | None, details: dict | None) -> dict | None:
    """The details with the new ones merged in, or None when nothing changes."""
    if not details:
        return None
    merged = dict(known or {})
    for key, value in details.items():
        if key in _GROWING_DETAILS:
            kept = list(merged.get(key) or [])
            merged[key] = [*kept, *(v for v in value if v not in kept)]
        else:
            merged[key] = value
    return merged if merged != (known or {}) else None


def record_user_details(user: ReportedUser, ip_events=(), details: dict | None = None) -> None:
    """Add what the platform says about a reported user (checked already: api/platform_details.py).

    IP events and the growing lists are added to the ones known; other details replace older ones.
    """
    events = merged_ip_events(user.ip_events, list(ip_events))
    if events is not None:
        # A new list, not an in-place append: the JSON column only notices reassignment.
        user.ip_events = events
    merged = merged_details(user.details, details)
    if merged is not None:
        user.details = merged


def save_user(
    platform_id: str,
    known: dict[str, Any] | None,
    identity: dict[str, Any],
    ip_events: list,
    details: dict | None,
) -> int:
    """The reported user's id, after writing what this answer adds, in the caller's transaction.

    ``known``: the user's row as read (id, the identity fields, ip_events, details), None for a new user,
    which is INSERTed (a concurrent insert of the same platform id raises IntegrityError: the caller
    retries and finds it). A known user is UPDATEd only when something changed, in one statement.
    """
    given = {k: v for k in IDENTITY_FIELDS if (v := identity.get(k)) not in (None, "")}
    connection = db.session.connection()
    if known is None:
        values = {
            "platform_id": platform_id,
            **given,
            "ip_events": merged_ip_events([], ip_events) or [],
            "details": merged_details(None, details),
        }
        return connection.execute(INSERT_USER, values).scalar_one()
    changes = {k: v for k, v in given.items() if known.get(k) != v}
    events = merged_ip_events(known.get("ip_events"), ip_events)
    if events is not None:
        changes["ip_events"] = events
    merged = merged_details(known.get("details"), details)
    if merged is not None:
        changes["details"] = merged
    if changes:
        connection.execute(
            update(USERS).where(USERS.c.id == bindparam("user_id")), {"user_id": known["id"], **changes}
        )
    return known["id"]
