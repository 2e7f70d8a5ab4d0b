"""Where case decisions meet external reporting.

Called inside the deciding transaction, so that a report row created here commits (or not) together with
the decision that caused it; jobs are enqueued by the caller after that commit.
"""

from __future__ import annotations


def after_violation_confirmed(case, decision, moderator, outcome) -> None:
    """Extend `outcome` with the follow-up a confirmed violation needs (a dialog to open, jobs to enqueue)."""
    return None
