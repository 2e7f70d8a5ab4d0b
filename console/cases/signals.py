"""What a decision announces, to whoever must act on it: cases knows nothing of who listens.

External reporting depends on cases (a report is about a case), so cases cannot call into it. Instead
`cases.service.decide` sends `violation_confirmed` (a blinker signal, the library Flask's own signals use),
and reporting connects its receiver when the app is created (`console.reporting.init_app`).

The signal is sent inside the deciding transaction, after the decision is flushed and before the commit:

- a receiver adds its rows (a report, a flag on the case) to that same transaction, so they commit or roll
  back together with the decision;
- a receiver never commits and never enqueues: it returns a `FollowUp` with the jobs to enqueue once the
  decision has committed (the convention in console/tasks.py), and, when the moderator must now do
  something, the name of what to ask them. The web layer turns that name into the page that asks it
  (console/sections.py); nothing here knows about URLs.
"""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

from console.tasks import Job

_signals = Namespace()

# Sent with the decided Case as sender, and `decision` and `actor` as keyword arguments.
violation_confirmed = _signals.signal("violation-confirmed")
# Sent for every decision (either verdict), after `violation_confirmed`, with the same arguments and
# `unticked`: the ids of the follow-up actions the moderator chose not to run (the platform's actions,
# console/webhooks: whoever offered them on the decision form knows what the ids mean).
case_decided = _signals.signal("case-decided")


@dataclass(frozen=True)
class FollowUp:
    """What a receiver asks for: jobs to run once the decision commits, a question for the moderator."""

    jobs: tuple[Job, ...] = ()
    ask: str | None = None
