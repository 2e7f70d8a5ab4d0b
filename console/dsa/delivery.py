"""Delivering statements exactly once: API.md §10 as one procedure, with an outcome per PUID.

``deliver`` sends statements in batches of up to 100 (or one call each), and turns every answer into an
outcome for each PUID:

- ``Stored``: a 201 named it; its uuid is known.
- ``AlreadyThere``: the service said "not unique" and the existing-PUID lookup confirmed it (302). The uuid is
  unknown (no answer of the API gives it after a lost 201) unless the duplicate answer carried it. The caller
  compares with its own journal: "already there" for a statement it never sent before needs an alert.
- ``Refused``: a permanent content error, with the field-by-field errors (``sent``: the service's words, or
  the console's own check before sending).
- ``Unresolved``: nothing is known yet; ``error`` says why and ``retry_after`` how long to wait at least.
  Retry with the same PUID.

A batch is all or nothing: after a per-statement 422 the failing statements are parked and the rest re-sent;
after a duplicate answer the named PUIDs are checked one by one and the rest re-sent. Nothing is re-sent after
a lost answer: the PUIDs of that call stay unresolved until ``retry_after`` (the service's PUID lock) has
passed, so no request of ours can meet our own earlier one and draw a false duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .client import TransparencyDatabaseClient
from .constants import BATCH_MAX
from .errors import (
    DsaError,
    DuplicatePuidError,
    NeedsAdminError,
    StatementRejectedError,
    TransientError,
    UnexpectedResponseError,
)
from .statement import Statement
from .validation import problems

# No call starts after this many seconds; each call ends within the client's timeouts (about 25 s). A job
# that delivers one batch therefore ends well within RQ's job timeout (180 s).
DELIVERY_BUDGET_SECONDS = 60.0


@dataclass(frozen=True)
class Stored:
    puid: str
    uuid: str
    created_at: str | None


@dataclass(frozen=True)
class AlreadyThere:
    puid: str
    uuid: str | None = None


@dataclass(frozen=True)
class Refused:
    puid: str
    errors: dict[str, list[str]]
    sent: bool


@dataclass(frozen=True)
class Unresolved:
    puid: str
    error: DsaError

    @property
    def retry_after(self) -> float | None:
        return getattr(self.error, "retry_after", None)

    @property
    def needs_admin(self) -> bool:
        return isinstance(self.error, NeedsAdminError)


Outcome = Stored | AlreadyThere | Refused | Unresolved


class DuplicateUnconfirmedError(TransientError):
    """The service answered "not unique" but its lookup does not know the PUID (yet): another request may be
    holding the PUID's lock. Nothing is concluded; ask again after ``retry_after``."""


def deliver(
    client: TransparencyDatabaseClient,
    statements: Sequence[Statement | Mapping[str, Any]],
    *,
    batch: bool = True,
    budget: float = DELIVERY_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Outcome]:
    """Send the statements and return an outcome per PUID, in the order given (see the module docstring).

    Raises ValueError when a statement has no PUID or two share one: the caller's bug, nothing is sent.
    """
    bodies = [s.to_json() if isinstance(s, Statement) else dict(s) for s in statements]
    puids = [b.get("puid") for b in bodies]
    if any(not isinstance(p, str) or not p.strip() for p in puids):
        raise ValueError("every statement needs its PUID before it is sent")
    if len(set(puids)) != len(puids):
        raise ValueError("two statements share a PUID; one request per PUID")
    run = _Run(client, clock() + budget, clock, batch=batch)
    valid = []
    for puid, body in zip(puids, bodies, strict=True):
        if client.check_before_sending and (found := problems(body, batch=batch)):
            run.outcomes[puid] = Refused(puid, found, sent=False)
        else:
            valid.append((puid, body))
    if batch:
        for start in range(0, len(valid), BATCH_MAX):
            run.send_batch(valid[start : start + BATCH_MAX])
    else:
        for puid, body in valid:
            run.send_one(puid, body)
    return {puid: run.outcomes[puid] for puid in puids}


class _Run:
    def __init__(
        self, client: TransparencyDatabaseClient, deadline: float, clock: Callable[[], float], *, batch: bool
    ) -> None:
        self.client = client
        self.deadline = deadline
        self.clock = clock
        self.outcomes: dict[str, Outcome] = {}
        self.stopped: DsaError | None = None  # once set, nothing more is sent

    def _may_call(self, puids: list[str]) -> bool:
        if self.stopped is None and self.clock() > self.deadline:
            self.stopped = TransientError(
                "delivery budget spent; the rest waits for the next run", retry_after=0
            )
        if self.stopped is not None:
            self._unresolved(puids, self.stopped)
            return False
        return True

    def _unresolved(self, puids: list[str], error: DsaError) -> None:
        for puid in puids:
            self.outcomes.setdefault(puid, Unresolved(puid, error))

    def _stop(self, puids: list[str], error: DsaError) -> None:
        # Credentials, limits, server faults and lost answers concern the whole call and probably the next
        # ones: nothing more is sent in this run.
        self.stopped = error
        self._unresolved(puids, error)

    def send_batch(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        while chunk:
            puids = [puid for puid, _ in chunk]
            if not self._may_call(puids):
                return
            try:
                receipts = self.client.submit_batch([body for _, body in chunk], checked=True)
            except StatementRejectedError as refusal:
                by_index = refusal.by_index
                if not by_index:  # a refusal of the call itself, not of a statement: our bug
                    for puid in puids:
                        self.outcomes[puid] = Refused(puid, dict(refusal.errors), sent=True)
                    return
                for index, errors in by_index.items():
                    if 0 <= index < len(chunk):
                        self.outcomes[puids[index]] = Refused(puids[index], errors, sent=True)
                chunk = [item for i, item in enumerate(chunk) if i not in by_index]
                continue
            except DuplicatePuidError as duplicate:
                named = [p for p in duplicate.puids if p in set(puids)]
                if not named:
                    self._stop(
                        puids,
                        UnexpectedResponseError(
                            f"duplicate answer naming none of the PUIDs sent: {duplicate}"
                        ),
                    )
                    return
                self._confirm(named, duplicate)
                chunk = [item for item in chunk if item[0] not in set(named)]
                continue
            except DsaError as error:
                self._stop(puids, error)
                return
            for receipt in receipts:
                self.outcomes[receipt.puid] = Stored(receipt.puid, receipt.uuid, receipt.created_at)
            return

    def send_one(self, puid: str, body: dict[str, Any]) -> None:
        if not self._may_call([puid]):
            return
        try:
            receipt = self.client.submit(body, checked=True)
        except StatementRejectedError as refusal:
            self.outcomes[puid] = Refused(puid, dict(refusal.errors), sent=True)
        except DuplicatePuidError as duplicate:
            self._confirm([puid], duplicate)
        except DsaError as error:
            self._stop([puid], error)
        else:
            self.outcomes[puid] = Stored(receipt.puid, receipt.uuid, receipt.created_at)

    def _confirm(self, puids: list[str], duplicate: DuplicatePuidError) -> None:
        """A "not unique" answer is not proof: ask the lookup for each PUID it names (API.md §10.2, §10.4)."""
        for puid in puids:
            if not self._may_call([puid]):
                continue
            try:
                exists = self.client.puid_exists(puid)
            except DsaError as error:
                self._stop([puid], error)
                continue
            if exists:
                # The documentation's duplicate answer carries the earlier uuid; the code's does not.
                uuid = duplicate.existing.get("uuid") if duplicate.existing.get("puid") == puid else None
                self.outcomes[puid] = AlreadyThere(puid, None if uuid is None else str(uuid))
            else:
                self.outcomes[puid] = Unresolved(
                    puid,
                    DuplicateUnconfirmedError(
                        f"{puid}: the service says not unique but its lookup does not find it",
                        retry_after=self.client.puid_lock_seconds,
                    ),
                )
