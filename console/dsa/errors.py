"""What can go wrong when sending statements of reasons, grouped by what the sender must do next.

The class decides (API.md §10.6): retry later with the same PUID (``TransientError``, and after a lost answer
``IndeterminateError``, which also says how long to leave the PUID alone); verify a duplicate with the
existing-PUID lookup (``DuplicatePuidError``); park the statement with the service's words
(``StatementRejectedError``); stop the whole queue for an admin (``NeedsAdminError``); stop and look at the
code or the service (``UnexpectedResponseError``).
"""

from __future__ import annotations

from typing import Any

from .constants import BATCH_ERROR_PREFIX


class DsaError(Exception):
    """Base class. ``http_status`` when an answer came; ``body`` is the parsed JSON or the text received."""

    def __init__(self, message: str, *, http_status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.body = body

    def __str__(self) -> str:
        return self.message if self.http_status is None else f"{self.message} (HTTP {self.http_status})"


class TransientError(DsaError):
    """The service did not store anything (5xx, 429, no connection): retry later with the same PUID.

    ``retry_after``: seconds to wait at least, when known (a 429's Retry-After).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """HTTP 429 "Limit Reached": too many calls for this token; ``retry_after`` from its Retry-After."""


class IndeterminateError(TransientError):
    """The request left but no complete answer came back (timeout, connection dropped, a gateway's 502/504).

    The statements may be stored. Never send them with a new PUID: after ``retry_after`` seconds (the
    service's per-PUID lock, so that no request of ours can still be holding it) re-send the same PUIDs or ask
    the existing-PUID lookup. Asking sooner can meet the lock and a false duplicate (API.md §6).
    """


class NeedsAdminError(DsaError):
    """The token is unknown (401), lacks the permission or a platform (403), or the base URL is wrong."""


class StatementRejectedError(DsaError):
    """The service refused the content (422): a permanent error, never retried unchanged.

    ``errors``: the service's ``{field: [messages]}`` for one statement; for a batch, ``by_index`` holds each
    failing statement's (0-based position in the call) and ``errors`` is the raw ``statement_<i>`` mapping.
    """

    def __init__(self, message: str, errors: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors

    @property
    def by_index(self) -> dict[int, dict[str, list[str]]]:
        found = {}
        for key, value in self.errors.items():
            index = key.removeprefix(BATCH_ERROR_PREFIX)
            if key.startswith(BATCH_ERROR_PREFIX) and index.isdigit() and isinstance(value, dict):
                found[int(index)] = value
        return found


class LocalValidationError(StatementRejectedError):
    """The console's own check refused the statement(s): nothing was sent. Same shape as the service's 422."""


class DuplicatePuidError(DsaError):
    """The service says these PUIDs are already used by the platform (or were locked by another request).

    Not proof that the statements exist: confirm each with the existing-PUID lookup (API.md §10.2).
    ``existing`` is the single endpoint's ``existing`` object (only ``puid`` in the code; the documentation
    shows the whole earlier statement, uuid included — used when present).
    """

    def __init__(self, message: str, puids: list[str], existing: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.puids = puids
        self.existing = existing or {}


class UnexpectedResponseError(DsaError):
    """An answer outside the API as documented: a redirect, a body that is not the expected JSON, an
    unexpected status. Retrying the same request will most likely get the same answer."""
