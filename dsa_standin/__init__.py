"""A local DSA Transparency Database: the statement-of-reasons API, its validation, PUID rules, batch rules,
status codes, JSON shapes and rate limits, plus injectable faults and a page of what it received.

Written from docs/dsa/API.md alone. It shares no code with the console's client (console/dsa), so that a
wrong reading in one is not confirmed by the same reading in the other; nothing in ``console`` imports it.

Run it::

    DSA_STANDIN_TOKEN='1|local-token' python -m dsa_standin --port 8766 --platform "Demo platform"

and point the console at ``http://127.0.0.1:8766`` (the API is under ``/api``, as at the service). Tests use
``serve_in_thread()``.

The API: ``GET /api/ping``, ``POST /api/v1/statement``, ``POST /api/v1/statements``,
``GET /api/v1/statement/existing-puid/<puid>``, ``GET /api/v1/statement/<uuid>``, with ``Authorization:
Bearer <token>``. The page of received statements is ``/``; each statement's page ``/statement/<uuid>``.

Control (JSON, no auth: a development tool bound to localhost): ``GET /_standin/statements``
(``?platform=``, ``?puid=``), ``GET /_standin/refusals``, ``GET /_standin/stats``, ``GET|POST|DELETE
/_standin/faults`` (faults.py), ``GET|POST /_standin/limits`` (``per_second``, ``per_minute``,
``anonymous_per_minute``).
"""

from .app import StandinServer, StandinState, create_standin, serve_in_thread
from .faults import ACTIONS, ENDPOINTS, Fault, FaultBook
from .limits import RateLimits
from .store import StandinStore

__all__ = [
    "ACTIONS",
    "ENDPOINTS",
    "Fault",
    "FaultBook",
    "RateLimits",
    "StandinServer",
    "StandinState",
    "StandinStore",
    "create_standin",
    "serve_in_thread",
]
