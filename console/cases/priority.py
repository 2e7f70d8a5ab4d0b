"""A case's review priority: how soon a priority-ordered queue hands it to a moderator.

A score from 0 to 100 out of three signals, each capped so that no single one decides alone:
- the source (a law-enforcement request or a trusted flagger outranks an anonymous user report),
- how many people reported the content (each report after the first adds, up to eleven reports),
- the AI's confidence, when a model or rule flagged it.

Stored as a rank, 100 − score, so that "most urgent first" is an ascending order like "oldest first": the
queue's keyset cursor stays one row-value comparison `(rank, reported_at, id) > (…)` on one index, which a
mixed-direction order (score descending, age ascending) could not be.
"""

from __future__ import annotations

SOURCE_WEIGHT = {
    "lea_request": 40,
    "trusted_flagger": 30,
    "ai_review": 20,
    "proactive": 15,
    "user_report": 10,
}
PER_EXTRA_REPORT = 3
EXTRA_REPORTS_COUNTED = 10
AI_WEIGHT = 30
MAX_SCORE = 100


def score(source_kind: str, report_count: int = 1, ai_confidence: float | None = None) -> int:
    points = SOURCE_WEIGHT.get(source_kind, SOURCE_WEIGHT["user_report"])
    points += min(max(report_count - 1, 0), EXTRA_REPORTS_COUNTED) * PER_EXTRA_REPORT
    if ai_confidence is not None:
        # Truncated, not rounded: migration 0006_reviewer computes the same figure in SQL for existing rows.
        points += int(ai_confidence * AI_WEIGHT)
    return min(points, MAX_SCORE)


def rank(source_kind: str, report_count: int = 1, ai_confidence: float | None = None) -> int:
    """Lower is reviewed sooner (the stored column)."""
    return MAX_SCORE - score(source_kind, report_count, ai_confidence)
