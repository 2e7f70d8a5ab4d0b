"""The client against the stand-in over real HTTP: every answer and every fault lands in the class the
console acts on (retry, verify, park, ask an admin)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from werkzeug.wrappers import Request, Response

from console.dsa import (
    DuplicatePuidError,
    IndeterminateError,
    NeedsAdminError,
    RateLimitedError,
    StatementRejectedError,
    TransientError,
    TransparencyDatabaseClient,
    UnexpectedResponseError,
)
from console.dsa.constants import CREATED_AT_FORMAT
from tests.dsa.conftest import LOCK_SECONDS, NO_PLATFORM_TOKEN, TOKEN, answering, raw_post, statement


def test_ping_checks_the_address_and_the_token(standin, client):
    client.ping()

    with pytest.raises(NeedsAdminError) as wrong_token:
        TransparencyDatabaseClient(standin.base_url, "1|not-the-token").ping()
    with pytest.raises(NeedsAdminError) as wrong_address:
        TransparencyDatabaseClient(f"{standin.base_url}/elsewhere", TOKEN).ping()

    assert wrong_token.value.http_status == 401 and wrong_token.value.body == {"message": "Unauthenticated."}
    assert wrong_address.value.http_status == 404


def test_a_token_without_a_platform_pings_but_may_not_send(standin):
    client = TransparencyDatabaseClient(standin.base_url, NO_PLATFORM_TOKEN)
    client.ping()

    with pytest.raises(NeedsAdminError) as refused:
        client.submit(statement())
    with pytest.raises(NeedsAdminError):
        client.puid_exists("decision-1")

    assert refused.value.http_status == 403
    assert refused.value.body == {"message": "This action is unauthorized."}
    assert standin.statements() == []


def test_a_created_statement_comes_back_with_the_uuid_the_service_gave_it(standin, client):
    receipt = client.submit(statement("decision-7"))

    [stored] = standin.statements()
    assert (receipt.puid, receipt.uuid, receipt.created_at) == (
        "decision-7",
        stored["uuid"],
        stored["created_at"],
    )
    assert datetime.strptime(receipt.created_at, CREATED_AT_FORMAT)
    assert repr(client).count(TOKEN) == 0


def test_the_services_own_refusal_keeps_its_words_and_fields(standin):
    unchecked = TransparencyDatabaseClient(standin.base_url, TOKEN, check_before_sending=False)
    body = {**statement().to_json(), "content_language": "en", "puid": "decision 1"}

    with pytest.raises(StatementRejectedError) as refused:
        unchecked.submit(body)
    with pytest.raises(StatementRejectedError) as refused_batch:
        unchecked.submit_batch([statement("decision-2").to_json(), body])

    assert refused.value.http_status == 422
    assert set(refused.value.errors) == {"content_language", "puid"}
    assert refused.value.message == "The selected content language is invalid. (and 1 more error)"
    assert set(refused_batch.value.by_index) == {1}
    assert refused_batch.value.by_index[1] == refused.value.errors
    assert standin.statements() == []


def test_a_used_puid_is_a_duplicate_to_verify_not_a_content_error(standin, client):
    client.submit(statement("decision-1"))
    client.submit_batch([statement("decision-2"), statement("decision-3")])

    with pytest.raises(DuplicatePuidError) as single:
        client.submit(statement("decision-2"))
    with pytest.raises(DuplicatePuidError) as batch:
        client.submit_batch([statement("decision-3"), statement("decision-4"), statement("decision-1")])

    assert single.value.puids == ["decision-2"] and single.value.existing == {"puid": "decision-2"}
    assert batch.value.puids == ["decision-3", "decision-1"]  # in request order
    assert len(standin.statements()) == 3


def test_repeated_puids_that_look_like_numbers_are_compared_as_text(standin):
    unchecked = TransparencyDatabaseClient(standin.base_url, TOKEN, check_before_sending=False)

    with pytest.raises(DuplicatePuidError) as repeated:
        unchecked.submit_batch([statement("123"), statement("123"), statement("x")])

    assert repeated.value.body["errors"]["existing_puids"] == [123]  # the service's quirk
    assert repeated.value.puids == ["123"]


def test_the_lookup_reads_302_as_found_and_404_as_not(standin, client):
    client.submit(statement("decision-1"))

    assert client.puid_exists("decision-1") is True
    assert client.puid_exists("decision-2") is False


def test_server_errors_are_transient_and_store_nothing(standin, client):
    for status in (500, 503):
        standin.add_fault("statement", "server_error", status=status)
        with pytest.raises(TransientError) as failed:
            client.submit(statement())
        assert failed.value.http_status == status
        assert not isinstance(failed.value, IndeterminateError)
    assert standin.statements() == []


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateways_error_is_a_lost_answer(standin, client, status):
    standin.add_fault("statements", "server_error", status=status)

    with pytest.raises(IndeterminateError) as lost:
        client.submit_batch([statement()])

    assert lost.value.http_status == status and lost.value.retry_after == LOCK_SECONDS


def test_an_injected_429_carries_its_retry_after(standin, client):
    standin.add_fault("statements", "rate_limit", retry_after=7)

    with pytest.raises(RateLimitedError) as limited:
        client.submit_batch([statement()])

    assert limited.value.retry_after == 7 and limited.value.http_status == 429
    assert limited.value.body == "Limit Reached. Please do not overload the API"


def test_the_services_own_rate_limit_is_a_429_with_retry_after(standin, client):
    standin.set_limits(per_second=2)
    client.ping()
    client.ping()

    with pytest.raises(RateLimitedError) as limited:
        client.submit(statement())

    assert limited.value.retry_after == 1  # the one-second window
    assert standin.statements() == []


def test_a_timeout_is_a_lost_answer_and_the_statement_may_still_be_stored(standin):
    impatient = TransparencyDatabaseClient(
        standin.base_url, TOKEN, read_timeout=0.3, puid_lock_seconds=LOCK_SECONDS
    )
    standin.add_fault("statement", "timeout", timeout_ms=800, then="store")

    started = time.monotonic()
    with pytest.raises(IndeterminateError) as lost:
        impatient.submit(statement())

    assert time.monotonic() - started < 0.8
    assert lost.value.retry_after == LOCK_SECONDS
    assert _eventually(lambda: len(standin.statements()) == 1)


def test_a_dropped_answer_is_a_lost_answer_and_the_statements_are_stored(standin, client):
    standin.add_fault("statements", "drop")

    with pytest.raises(IndeterminateError):
        client.submit_batch([statement("decision-1"), statement("decision-2")])

    assert sorted(row["puid"] for row in standin.statements()) == ["decision-1", "decision-2"]


def test_a_slow_answer_is_cut_off_within_the_read_timeout(standin):
    impatient = TransparencyDatabaseClient(standin.base_url, TOKEN, read_timeout=0.3)
    standin.set_latency(1000)

    started = time.monotonic()
    with pytest.raises(IndeterminateError):
        impatient.ping()

    assert time.monotonic() - started < 0.9


def test_no_connection_is_transient_not_lost():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    client = TransparencyDatabaseClient(f"http://127.0.0.1:{closed_port}", TOKEN, connect_timeout=1)

    with pytest.raises(TransientError) as failed:
        client.submit(statement())

    assert not isinstance(failed.value, IndeterminateError)


def test_a_malformed_base_url_asks_an_admin():
    with pytest.raises(NeedsAdminError):
        TransparencyDatabaseClient("transparency.example", TOKEN).ping()


def test_answers_outside_the_api_are_unexpected():
    redirect = Response("", status=302, headers={"Location": "/login"})
    with answering(lambda _request: redirect) as url, pytest.raises(UnexpectedResponseError) as redirected:
        TransparencyDatabaseClient(url, TOKEN).submit(statement())
    with (
        answering(lambda _request: Response('{"ok": true}', 200)) as url,
        pytest.raises(UnexpectedResponseError),
    ):
        TransparencyDatabaseClient(url, TOKEN).ping()
    with answering(lambda _request: Response('{"puid": "decision-1"}', 201)) as url:
        with pytest.raises(UnexpectedResponseError):
            TransparencyDatabaseClient(url, TOKEN).submit(statement())
    with answering(lambda _request: Response("<html>found</html>", 302)) as url:
        with pytest.raises(UnexpectedResponseError):
            TransparencyDatabaseClient(url, TOKEN).puid_exists("decision-1")

    assert "/login" in str(redirected.value)


def test_the_request_carries_the_token_and_asks_for_json(standin):
    seen = []

    def spy(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response('{"you_say":"ping","i_say":"pong"}', 200, content_type="application/json")

    with answering(spy) as url:
        TransparencyDatabaseClient(url, TOKEN).ping()

    assert seen[0]["Authorization"] == f"Bearer {TOKEN}" and seen[0]["Accept"] == "application/json"
    # Without Accept the service redirects a refusal instead of answering 422: the stand-in does too.
    assert raw_post(standin, "/api/v1/statement", {}, accept=False).status_code == 302


def _eventually(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
