"""A local CyberTipline: NCMEC's endpoints, schema, reply bytes and state rules, plus fault injection.

It answers as the real service was recorded answering (``replies.py``), validates what it receives against
NCMEC's own XSD (``schema.py``), and shares no code with the console's client, so that a wrong guess in
the client cannot be confirmed by the same guess here. Nothing in ``console`` imports it.

Run it::

    CYBERTIPLINE_SIM_PASSWORD=P python -m simulator --host 127.0.0.1 --port 8765 --username U [--db PATH]

and point the console at ``http://127.0.0.1:8765/ispws``. Tests use ``serve_in_thread()``.

The API lives under ``/ispws`` with HTTP Basic auth, like the real one. Everything under ``/_sim`` and the
HTML page at ``/`` need NO auth: this is a development tool bound to localhost, holding test data only.
Uploaded files are hashed and counted, never stored.

Inspection (JSON): ``GET /_sim/reports`` (``?state=finished`` filters), ``GET /_sim/reports/<id>`` (with the
received XML), ``GET /_sim/refusals`` (every call refused, with the reason and what was received),
``GET /_sim/stats`` (calls per endpoint, and how many are being handled now — a delayed or timed-out call
goes on after its client gave up —; ``DELETE`` resets the counters).

Faults: ``POST /_sim/faults`` with one fault object, a list of them, or
``{"faults": [...], "latency_ms": N}``; ``GET /_sim/faults`` lists them; ``DELETE /_sim/faults`` clears all
faults and the latency. The fault object and the actions are described in ``faults.py``. From Python, the
same is on ``SimulatorServer`` (``set_fault``, ``clear_faults``, ``set_latency``).
"""

from .app import SimulatorState, create_simulator
from .faults import ACTIONS, ENDPOINTS, Fault, FaultBook, apply_fault_json
from .fields import file_details_fields, report_fields
from .replies import CONTENT_TYPE
from .schema import VENDORED_XSD, DocumentRefused, Schema, load_schema
from .server import QuietRequestHandler, SimulatorServer, serve_in_thread
from .store import ReportStateConflict, SimulatorStore

__all__ = [
    "ACTIONS",
    "CONTENT_TYPE",
    "ENDPOINTS",
    "VENDORED_XSD",
    "DocumentRefused",
    "Fault",
    "FaultBook",
    "QuietRequestHandler",
    "ReportStateConflict",
    "Schema",
    "SimulatorServer",
    "SimulatorState",
    "SimulatorStore",
    "apply_fault_json",
    "create_simulator",
    "file_details_fields",
    "load_schema",
    "report_fields",
    "serve_in_thread",
]
