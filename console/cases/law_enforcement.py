"""A law-enforcement request's details on its case: the agency, its case number and the officer.

Sent to NCMEC as the report's lawEnforcement (console/reporting/documents.py); entered by a moderator on the
case page, or sent with the case by the ingestion API.
"""

from __future__ import annotations

from console import audit, tasks
from console.cases.models import Case
from console.cases.service import NotFound
from console.extensions import db


def set_law_enforcement(case_id: int, request: dict, *, actor) -> Case:
    """Record a law-enforcement request's agency, case number and officer on the case (a moderator's entry).

    What a report filed already carries does not change (its payload was frozen); reports filed from now on
    carry it as NCMEC's lawEnforcement.
    """
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    before = dict(case.law_enforcement or {})
    case.law_enforcement = dict(request) or None
    audit.record(
        "law_enforcement_recorded",
        "case",
        case_id,
        actor=actor,
        case_id=case_id,
        agency=request.get("agency_name"),
        case_number=request.get("case_number"),
        changed=sorted(k for k in {*before, *request} if before.get(k) != request.get(k)),
    )
    tasks.commit_then_enqueue()
    return case
