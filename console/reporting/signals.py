"""What filing announces, to whoever keeps something about finished reports: reporting knows nothing of who
listens (the hash bank banks the report's hashes).

`report_finished` is sent with the report's id as sender, inside the transaction that records the finish
(console/reporting/pipeline.py, `_finish`), after the row says "finished" and before the commit. A receiver
adds its rows to that transaction inside a savepoint of its own and never raises: the report IS finished at
NCMEC, and nothing may undo or stop recording that. It may return jobs (console/tasks.Job) to enqueue after
the commit. What a receiver could not do, its own sweep redoes.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

report_finished = _signals.signal("report-finished")
