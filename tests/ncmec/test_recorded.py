"""Contract tests: the client reads every reply recorded from the real CyberTipline exactly as recorded.

The bodies come verbatim from RECORDED.md (a copy of ../shared/ncmec/RECORDED.md kept beside this file),
served over real HTTP with the recorded status and headers: nothing here is ours but the assertions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from console.ncmec import (
    ChecksumMismatchError,
    CyberTiplineClient,
    MalformedError,
    NeedsAdminError,
    RetryableError,
    build_report_xml,
    schema,
)
from console.ncmec.client import _parse_response
from tests.ncmec_fixtures import sample_report

HERE = Path(__file__).parent
RECORDED = HERE / "recorded" / "RECORDED.md"
SHARED = HERE.parents[2] / "shared" / "ncmec" / "RECORDED.md"
CONTENT_TYPE = "application/xml;charset=ISO-8859-1"


def recorded_bodies() -> dict[str, bytes]:
    """Each fenced xml block of RECORDED.md, keyed by the line that introduces it."""
    text = RECORDED.read_text()
    bodies = {}
    for intro, body in re.findall(r"^(`[^\n]*?)\n```xml\n(.*?)\n```", text, flags=re.S | re.M):
        key = re.match(r"`(\w+) (/\w+)`", intro).group(0) + ("" if "break" not in intro else " malformed")
        bodies[key] = body.encode("utf-8")
    return bodies


BODIES = recorded_bodies()


def test_the_fixtures_are_the_recordings():
    assert len(BODIES) == 6, sorted(BODIES)
    if SHARED.exists():  # beside a checkout, ../shared holds the team's copy
        assert RECORDED.read_bytes() == SHARED.read_bytes()


@contextmanager
def service(status: int, body: bytes, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Answer every call with one recorded reply, after reading the request like a server would."""
    seen = []

    def app(environ, start_response):
        request = Request(environ)
        request.get_data()
        seen.append(request)
        reason = {200: "OK", 401: "Unauthorized"}[status]
        start_response(f"{status} {reason}", list({"Content-Type": CONTENT_TYPE, **(headers or {})}.items()))
        return [body]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ispws"
    finally:
        server.shutdown()
        server.server_close()


def client(base_url: str) -> CyberTiplineClient:
    return CyberTiplineClient(base_url, "esp", "secret", connect_timeout=2, read_timeout=2)


def test_status_good_credentials():
    with service(200, BODIES["`GET /status`"]) as url:
        answer = client(url).status()
    assert answer.response_code == 0
    assert answer.description == "Remote User : Ello, Remote Ip : 96.90.179.38"


def test_status_wrong_credentials_is_an_empty_401():
    with service(401, b"", {"WWW-Authenticate": 'Basic realm="ESP Web Services"'}) as url:
        with pytest.raises(NeedsAdminError) as caught:
            client(url).status()
    assert caught.value.http_status == 401
    assert "credentials refused" in str(caught.value)


def test_status_wrong_credentials_with_a_static_page():
    page = b"<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>"
    with service(401, page, {"Content-Type": "text/html"}) as url:
        with pytest.raises(NeedsAdminError):
            client(url).status()


def test_submit_returns_the_report_id():
    with service(200, BODIES["`POST /submit`"]) as url:
        assert client(url).submit(build_report_xml(sample_report())) == "7855778"


def test_submit_schema_failure_1001_is_malformed_not_retryable():
    with service(200, BODIES["`POST /submit` malformed"]) as url:
        with pytest.raises(MalformedError) as caught:
            client(url).submit(build_report_xml(sample_report()))
    error = caught.value
    assert error.code == 1001
    assert not isinstance(error, RetryableError)
    # The service's own words reach the person who must fix it.
    assert "Malformed (xml) report submittal - cvc-complex-type.2.4.a" in str(error)


def test_upload_reply_is_read_field_by_field():
    parsed = _parse_response(BODIES["`POST /upload`"], 200)
    assert (parsed.response_code, parsed.description) == (0, "Success")
    assert parsed.report_id == "7855770"
    assert parsed.file_id == "15a2034b50f2a558f6595a2b5e02ccce"
    assert parsed.hash == "af3d0406f63a0f99a8684d568a59542f"


def test_upload_over_http_checks_the_recorded_hash_against_our_bytes(tmp_path):
    """The recorded hash is the MD5 of bytes we do not have: our own MD5 check must notice."""
    path = tmp_path / "f.jpg"
    path.write_bytes(b"not the recorded file")
    with service(200, BODIES["`POST /upload`"]) as url:
        with pytest.raises(ChecksumMismatchError):
            client(url).upload("7855770", path)


def test_finish_reads_report_done_response():
    with service(200, BODIES["`POST /finish`"]) as url:
        result = client(url).finish("7855778")
    assert result.report_id == "7855778"
    assert result.file_ids == ()


def test_finish_with_files_lists_them():
    body = BODIES["`POST /finish`"].replace(
        b"<files/>", b"<files><fileId>15a2034b50f2a558f6595a2b5e02ccce</fileId><fileId>ab</fileId></files>"
    )
    with service(200, body) as url:
        result = client(url).finish("7855778")
    assert result.file_ids == ("15a2034b50f2a558f6595a2b5e02ccce", "ab")


def test_retract_succeeds():
    with service(200, BODIES["`POST /retract`"]) as url:
        answer = client(url).retract("7855767")
    assert answer.response_code == 0
    assert answer.report_id == "7855767"


@pytest.mark.parametrize("key", sorted(BODIES))
def test_every_recorded_reply_is_valid_against_ncmecs_xsd(key):
    """The recordings and the vendored XSD agree: each reply is a reportResponse or reportDoneResponse."""
    assert schema.problems(BODIES[key]) == []
