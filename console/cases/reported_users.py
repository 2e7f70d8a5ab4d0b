"""The reported user as the platform describes them, over time: what each answer of the platform adds.

Ingestion (console/api/ingestion.py) and any later answer of the platform's about its user record through
``record_user_details``, after checking the values by the same rules (console/api/platform_details.py): the
user has one shape, whoever told the console.
"""

from __future__ import annotations

from console.cases.models import ReportedUser

# The reported user's details that grow as the platform tells more (a device seen again is kept once); every
# other detail is replaced by the newer one.
_GROWING_DETAILS = ("phones", "emails", "addresses", "device_ids", "associated_accounts")


def record_user_details(user: ReportedUser, ip_events=(), details: dict | None = None) -> None:
    """Add what the platform says about a reported user (checked already: api/platform_details.py).

    IP events and the growing lists are added to the ones known; other details replace older ones. Whoever
    asks the platform (ingestion, an enrichment answer) records through here, so the user has one shape.
    """
    known = list(user.ip_events or [])
    new_events = [e for e in ip_events if e not in known]
    if new_events:
        # A new list, not an in-place append: the JSON column only notices reassignment.
        user.ip_events = [*known, *new_events]
    if not details:
        return
    merged = dict(user.details or {})
    for key, value in details.items():
        if key in _GROWING_DETAILS:
            kept = list(merged.get(key) or [])
            merged[key] = [*kept, *(v for v in value if v not in kept)]
        else:
            merged[key] = value
    if merged != (user.details or {}):
        user.details = merged
