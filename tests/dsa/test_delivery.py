"""Delivering statements exactly once against the stand-in: batches are all or nothing, a duplicate is
verified with the lookup, and a lost answer settles with one copy and no false "already there"."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from console.dsa import (
    AlreadyThere,
    DuplicateUnconfirmedError,
    IndeterminateError,
    NeedsAdminError,
    RateLimitedError,
    Refused,
    Stored,
    TransientError,
    TransparencyDatabaseClient,
    Unresolved,
    deliver,
)
from tests.dsa.conftest import LOCK_SECONDS, TOKEN, answering, raw_get, raw_post, statement


def _kinds(outcomes: dict) -> dict[str, str]:
    return {puid: type(outcome).__name__ for puid, outcome in outcomes.items()}


def _copies(standin) -> dict[str, int]:
    copies: dict[str, int] = {}
    for row in standin.statements():
        copies[row["puid"]] = copies.get(row["puid"], 0) + 1
    return copies


def test_one_bad_statement_refuses_the_whole_batch_at_the_service(standin):
    bodies = [statement(f"decision-{i}").to_json() for i in range(5)]
    bodies[2] = {**bodies[2], "category": "STATEMENT_CATEGORY_SPAM"}

    answer = raw_post(standin, "/api/v1/statements", {"statements": bodies})

    assert answer.status_code == 422
    assert answer.json() == {"errors": {"statement_2": {"category": ["The selected category is invalid."]}}}
    assert standin.statements() == []


def test_deliver_parks_what_the_service_refuses_and_sends_the_rest_again(standin):
    unchecked = TransparencyDatabaseClient(standin.base_url, TOKEN, check_before_sending=False)
    statements = [statement(f"decision-{i}").to_json() for i in range(5)]
    statements[2] = {**statements[2], "category": "STATEMENT_CATEGORY_SPAM"}

    outcomes = deliver(unchecked, statements)

    refused = outcomes["decision-2"]
    assert isinstance(refused, Refused) and refused.sent and set(refused.errors) == {"category"}
    assert [p for p, o in outcomes.items() if isinstance(o, Stored)] == [
        f"decision-{i}" for i in (0, 1, 3, 4)
    ]
    assert _copies(standin) == {f"decision-{i}": 1 for i in (0, 1, 3, 4)}
    assert standin.stats()["calls"] == {"statements": 2}


def test_deliver_keeps_what_the_console_refuses_from_the_service(standin, client):
    statements = [statement(f"decision-{i}") for i in range(3)]
    statements[1] = statement("decision-1", decision_facts="")

    outcomes = deliver(client, statements)

    refused = outcomes["decision-1"]
    assert isinstance(refused, Refused) and not refused.sent and set(refused.errors) == {"decision_facts"}
    assert _kinds(outcomes) == {"decision-0": "Stored", "decision-1": "Refused", "decision-2": "Stored"}
    assert standin.stats()["calls"] == {"statements": 1}
    assert standin.store.refusals() == []


def test_stored_outcomes_carry_the_services_uuid(standin, client):
    outcomes = deliver(client, [statement(f"decision-{i}") for i in range(150)])

    uuids = {row["puid"]: row["uuid"] for row in standin.statements()}
    assert {puid: outcome.uuid for puid, outcome in outcomes.items()} == uuids
    assert standin.stats()["calls"] == {"statements": 2}  # 100 + 50


def test_a_duplicate_is_verified_with_the_lookup_and_the_rest_sent_again(standin, client):
    for i in (1, 4, 7):
        client.submit(statement(f"decision-{i}"))

    outcomes = deliver(client, [statement(f"decision-{i}") for i in range(10)])

    assert {p for p, o in outcomes.items() if isinstance(o, AlreadyThere)} == {
        "decision-1",
        "decision-4",
        "decision-7",
    }
    assert all(o.uuid is None for o in outcomes.values() if isinstance(o, AlreadyThere))
    assert sum(isinstance(o, Stored) for o in outcomes.values()) == 7
    assert _copies(standin) == {f"decision-{i}": 1 for i in range(10)}
    assert standin.stats()["calls"] == {"statement": 3, "statements": 2, "existing_puid": 3}


def test_one_call_per_statement_resolves_duplicates_the_same_way(standin, client):
    client.submit(statement("decision-2"))

    outcomes = deliver(client, [statement(f"decision-{i}") for i in range(4)], batch=False)

    assert _kinds(outcomes) == {
        "decision-0": "Stored",
        "decision-1": "Stored",
        "decision-2": "AlreadyThere",
        "decision-3": "Stored",
    }
    assert standin.stats()["calls"] == {"statement": 5, "existing_puid": 1}


def test_a_lost_answer_after_storing_settles_as_already_there_with_one_copy(standin, client):
    standin.add_fault("statements", "drop")
    statements = [statement(f"decision-{i}") for i in range(20)]

    first = deliver(client, statements)

    assert all(isinstance(o, Unresolved) and isinstance(o.error, IndeterminateError) for o in first.values())
    assert {o.retry_after for o in first.values()} == {LOCK_SECONDS}
    assert len(standin.statements()) == 20  # stored, though the answer never came
    time.sleep(LOCK_SECONDS)

    second = deliver(client, statements)

    assert all(isinstance(o, AlreadyThere) for o in second.values())
    assert _copies(standin) == {f"decision-{i}": 1 for i in range(20)}


def test_a_lost_answer_that_stored_nothing_is_sent_again_not_taken_as_there(standin):
    impatient = TransparencyDatabaseClient(
        standin.base_url, TOKEN, read_timeout=0.3, puid_lock_seconds=LOCK_SECONDS
    )
    # The service holds the PUIDs' locks while it works, then fails: nothing is stored.
    standin.add_fault("statements", "timeout", timeout_ms=700, then="fail")
    statements = [statement(f"decision-{i}") for i in range(10)]

    first = deliver(impatient, statements)
    assert all(isinstance(o, Unresolved) and isinstance(o.error, IndeterminateError) for o in first.values())
    time.sleep(max(o.retry_after for o in first.values()))  # as the console's retry will

    second = deliver(impatient, statements)

    assert all(isinstance(o, Stored) for o in second.values()), second
    assert _copies(standin) == {f"decision-{i}": 1 for i in range(10)}


def test_asking_too_soon_after_a_lost_answer_meets_the_lock_and_a_false_found(standin):
    # Why the console waits: the service's duplicate answer and lookup say "there" while the first request
    # still holds the lock, and the batch endpoint keeps saying it for two days — though nothing was stored.
    standin.add_fault("statements", "timeout", timeout_ms=700, then="fail")
    body = {"statements": [statement("decision-1").to_json()]}
    first = threading.Thread(target=raw_post, args=(standin, "/api/v1/statements", body))
    first.start()
    time.sleep(0.2)

    too_soon = raw_post(standin, "/api/v1/statements", body)
    first.join()

    assert too_soon.status_code == 422 and too_soon.json()["errors"]["existing_puids"] == ["decision-1"]
    assert raw_get(standin, "/api/v1/statement/existing-puid/decision-1").status_code == 302
    assert standin.statements() == []


def test_a_duplicate_the_lookup_does_not_confirm_stays_unresolved(standin, client):
    # On the single endpoint a locked PUID is answered "not unique" without the two-day mark: the lookup
    # still says 404, and nothing is concluded.
    standin.add_fault("statement", "timeout", timeout_ms=700, then="fail")
    first = threading.Thread(
        target=raw_post, args=(standin, "/api/v1/statement", statement("decision-1").to_json())
    )
    first.start()
    time.sleep(0.2)

    outcomes = deliver(client, [statement("decision-1")], batch=False)
    first.join()

    [outcome] = outcomes.values()
    assert isinstance(outcome, Unresolved) and isinstance(outcome.error, DuplicateUnconfirmedError)
    assert outcome.retry_after == LOCK_SECONDS
    time.sleep(LOCK_SECONDS)
    assert isinstance(deliver(client, [statement("decision-1")], batch=False)["decision-1"], Stored)


def test_the_documentations_duplicate_answer_gives_the_earlier_uuid():
    # The documentation shows the earlier statement in "existing"; the code sends only its puid.
    not_unique = "The identifier given is not unique within this platform."
    documented = {
        "message": not_unique,
        "errors": {"puid": [not_unique]},
        "existing": {"uuid": "0b8c1a4e-3b7f-4c36-9c55-4f0d1c2b9a10", "puid": "decision-1", "permalink": "x"},
    }

    def service(request: Request) -> Response:
        if request.path == "/api/v1/statement/existing-puid/decision-1":
            found = {"message": "statement of reason found", "puid": "decision-1"}
            return Response(json.dumps(found), 302, content_type="application/json")
        return Response(json.dumps(documented), 422, content_type="application/json")

    with answering(service) as url:
        outcomes = deliver(TransparencyDatabaseClient(url, TOKEN), [statement("decision-1")], batch=False)

    assert outcomes["decision-1"] == AlreadyThere("decision-1", "0b8c1a4e-3b7f-4c36-9c55-4f0d1c2b9a10")


def test_a_rate_limit_stops_the_run_and_leaves_the_rest_for_later(standin, client):
    standin.set_limits(per_second=1)

    outcomes = deliver(client, [statement(f"decision-{i}") for i in range(150)])

    stored = [p for p, o in outcomes.items() if isinstance(o, Stored)]
    waiting = [o for o in outcomes.values() if isinstance(o, Unresolved)]
    assert len(stored) == 100 and len(waiting) == 50
    assert all(isinstance(o.error, RateLimitedError) and o.retry_after >= 1 for o in waiting)
    assert len(standin.statements()) == 100


def test_credentials_refused_park_everything_for_an_admin(standin):
    outcomes = deliver(
        TransparencyDatabaseClient(standin.base_url, "1|revoked"), [statement(f"d-{i}") for i in range(3)]
    )

    assert all(isinstance(o, Unresolved) and o.needs_admin for o in outcomes.values())
    assert all(isinstance(o.error, NeedsAdminError) for o in outcomes.values())
    assert standin.stats()["calls"] == {"statements": 1}


def test_nothing_starts_once_the_budget_is_spent(standin, client):
    ticks = iter([0.0, 0.0, 100.0, 100.0, 100.0])

    outcomes = deliver(
        client, [statement(f"decision-{i}") for i in range(150)], budget=60, clock=lambda: next(ticks)
    )

    assert sum(isinstance(o, Stored) for o in outcomes.values()) == 100
    late = [o for o in outcomes.values() if isinstance(o, Unresolved)]
    assert len(late) == 50 and all(type(o.error) is TransientError for o in late)
    assert standin.stats()["calls"] == {"statements": 1}


def test_a_caller_must_give_each_statement_its_own_puid(standin, client):
    with pytest.raises(ValueError, match="share a PUID"):
        deliver(client, [statement("decision-1"), statement("decision-1")])
    with pytest.raises(ValueError, match="needs its PUID"):
        deliver(client, [statement("")])

    assert standin.stats()["calls"] == {}
