"""What filing announces, to whoever keeps something about its reports: reporting knows nothing of who listens
(the hash bank banks a finished report's hashes; the platform's webhooks enrich a report before it is frozen
and ask the platform to preserve the account's data after it is finished).

`report_finished` is sent with the report's id as sender and its `rule_id`, inside the transaction that
records the finish (console/reporting/pipeline.py, `_finish`). A receiver does no work there: it returns the
jobs (console/tasks.Job, called with the report's id) that do it, each its own job after the commit. The
pipeline promises each one by a row in that same transaction (console/reporting/follow_ups.py: pending until
done once, enqueued again by the sweep), so nothing is lost if a worker dies between the finish and them. A
receiver never raises: the report IS finished at NCMEC, and nothing may undo or stop recording that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

_signals = Namespace()

report_finished = _signals.signal("report-finished")

# Sent by the worker before a report's document is frozen (console/reporting/platform.py), outside any
# transaction (a receiver may call the platform), with the report's id as sender and `payload` (read only). A
# receiver returns a PlatformAnswer, or None when it has nothing to say about this report.
report_freezing = _signals.signal("report-freezing")


@dataclass(frozen=True)
class PlatformAnswer:
    """What the platform added to a report before it is frozen, or that it has not answered yet."""

    # Checked values to add under the payload's "platform" (reported_user, files); never unchecked input.
    supplement: dict = field(default_factory=dict)
    # Not ready (no answer, a bad answer, an account action not acknowledged yet): ask again later, until
    # PLATFORM_WAIT_SECONDS after the report was made; then it is filed without, saying so.
    retry: bool = False
    note: str = ""  # in words, for the report's page: what is missing and why
