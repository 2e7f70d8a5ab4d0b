"""The client against the simulator over real HTTP: every endpoint, every error family, every fault."""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from console.ncmec import (
    PRODUCTION_URL,
    TEST_URL,
    ChecksumMismatchError,
    CyberTiplineClient,
    DataError,
    IndeterminateError,
    InvalidDocumentError,
    MalformedError,
    NeedsAdminError,
    ReportStateError,
    RetryableError,
    UnknownCodeError,
    base_url_for,
    build_file_details_xml,
    build_report_xml,
    schema,
)
from simulator import QuietRequestHandler as _QuietHandler
from tests.ncmec_fixtures import sample_file_details, sample_report

REPORT_XML = build_report_xml(sample_report())


def open_report_with_file(client: CyberTiplineClient, tmp_path) -> tuple[str, str]:
    path = tmp_path / "evidence.bin"
    path.write_bytes(b"evidence")
    report_id = client.submit(REPORT_XML)
    return report_id, client.upload(report_id, path).file_id


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@contextmanager
def stub_server(status: str, body_chunks: list[bytes], headers: list[tuple[str, str]]) -> Iterator[str]:
    """A tiny server that answers every request the same way, for answers the simulator never gives."""

    def app(environ, start_response):
        Request(environ).get_data()  # drain the body, honouring Content-Length
        start_response(status, headers)
        return iter(body_chunks)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ispws"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- endpoints ----------------------------------------------------------------------------------------------


def test_status_checks_connection_and_credentials(ncmec_client):
    response = ncmec_client.status()
    assert response.response_code == 0
    assert "esp-test" in response.description


def test_xsd_is_served(ncmec_client):
    assert ncmec_client.fetch_xsd() == schema.xsd_bytes()


def test_retract_cancels_an_open_report(ncmec_simulator, ncmec_client):
    report_id = ncmec_client.submit(REPORT_XML)
    assert ncmec_client.retract(report_id).response_code == 0
    assert ncmec_simulator.report(report_id)["state"] == "retracted"


def test_upload_of_a_larger_file_streams_and_hashes_correctly(ncmec_simulator, ncmec_client, tmp_path):
    path = tmp_path / "video.mp4"
    data = random.Random(3).randbytes(3_000_000)
    path.write_bytes(data)
    report_id = ncmec_client.submit(REPORT_XML)

    result = ncmec_client.upload(report_id, path)

    [stored] = ncmec_simulator.report(report_id)["files"]
    assert stored["size"] == len(data)
    assert stored["md5"] == result.md5


# --- error families -----------------------------------------------------------------------------------------


def test_wrong_password_needs_an_admin(ncmec_simulator):
    client = CyberTiplineClient(ncmec_simulator.base_url, ncmec_simulator.username, "wrong")
    with pytest.raises(NeedsAdminError) as caught:
        client.status()
    assert caught.value.http_status == 401
    assert caught.value.code is None  # the real service sends an empty body with its 401


def test_missing_credentials_get_an_empty_401(ncmec_simulator):
    response = requests.get(f"{ncmec_simulator.base_url}/status", timeout=5)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_document_that_breaks_the_xsd_is_never_sent(ncmec_simulator, ncmec_client):
    wrong_order = REPORT_XML.replace(b"<report>", b"<report><additionalInfo>x</additionalInfo>", 1)
    with pytest.raises(InvalidDocumentError) as caught:
        ncmec_client.submit(wrong_order)
    assert "wrong place" in str(caught.value)
    assert ncmec_simulator.stats()["calls"].get("submit", 0) == 0
    with pytest.raises(InvalidDocumentError):
        ncmec_client.submit(b"<report><incidentSummary>")  # not even XML


def test_the_services_schema_refusal_is_malformed_and_not_retryable(ncmec_simulator, ncmec_client):
    """If a document the XSD accepts is refused anyway (a newer live schema), the 1001 is not retried."""
    wrong_order = REPORT_XML.replace(b"<report>", b"<report><additionalInfo>x</additionalInfo>", 1)
    with pytest.raises(MalformedError) as caught:
        ncmec_client._call("POST", "submit", data=wrong_order, headers={"Content-Type": "text/xml"})
    assert caught.value.code == 1001
    assert "Malformed (xml) report submittal" in str(caught.value)
    assert not isinstance(caught.value, RetryableError)
    assert ncmec_simulator.reports() == []


def test_upload_to_unknown_report_is_5001(ncmec_client, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with pytest.raises(ReportStateError) as caught:
        ncmec_client.upload("999999", path)
    assert caught.value.code == 5001
    assert caught.value.report_missing


def test_no_changes_after_finish_5102(ncmec_client, tmp_path):
    report_id, file_id = open_report_with_file(ncmec_client, tmp_path)
    ncmec_client.finish(report_id)

    with pytest.raises(ReportStateError) as upload_error:
        ncmec_client.upload(report_id, tmp_path / "evidence.bin")
    with pytest.raises(ReportStateError) as fileinfo_error:
        ncmec_client.fileinfo(build_file_details_xml(sample_file_details(report_id, file_id, viewed=True)))
    with pytest.raises(ReportStateError) as retract_error:
        ncmec_client.retract(report_id)
    with pytest.raises(ReportStateError) as finish_error:
        ncmec_client.finish(report_id)

    for caught in (upload_error, fileinfo_error, retract_error, finish_error):
        assert caught.value.code == 5102
        assert caught.value.already_finished


def test_no_changes_after_retract_5101(ncmec_client, tmp_path):
    report_id, _ = open_report_with_file(ncmec_client, tmp_path)
    ncmec_client.retract(report_id)

    with pytest.raises(ReportStateError) as upload_error:
        ncmec_client.upload(report_id, tmp_path / "evidence.bin")
    with pytest.raises(ReportStateError) as finish_error:
        ncmec_client.finish(report_id)
    assert upload_error.value.already_retracted
    assert finish_error.value.already_retracted


def test_fileinfo_for_a_file_of_another_report_is_5002(ncmec_client, tmp_path):
    _, file_of_first = open_report_with_file(ncmec_client, tmp_path)
    second = ncmec_client.submit(REPORT_XML)
    with pytest.raises(ReportStateError) as caught:
        ncmec_client.fileinfo(build_file_details_xml(sample_file_details(second, file_of_first, viewed=True)))
    assert caught.value.code == 5002
    assert caught.value.file_missing


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (1000, RetryableError),
        (1111, RetryableError),
        (1001, MalformedError),
        (2000, NeedsAdminError),
        (3100, NeedsAdminError),
        (4000, DataError),
        (4100, MalformedError),
        (4110, MalformedError),
        (5001, ReportStateError),
        (1234, UnknownCodeError),
        (7000, UnknownCodeError),
    ],
)
def test_injected_response_codes_map_to_error_families(ncmec_simulator, ncmec_client, code, error):
    ncmec_simulator.set_fault("submit", "code", code=code)
    with pytest.raises(error) as caught:
        ncmec_client.submit(REPORT_XML)
    assert caught.value.code == code
    assert caught.value.http_status == 200  # the code in the body is what counts
    assert not isinstance(caught.value, IndeterminateError)
    assert ncmec_simulator.reports() == []
    assert ncmec_client.submit(REPORT_XML)  # one-shot: the next call works


def test_http_500_is_retryable_and_nothing_happened(ncmec_simulator, ncmec_client):
    ncmec_simulator.set_fault("submit", "http_500")
    with pytest.raises(RetryableError) as caught:
        ncmec_client.submit(REPORT_XML)
    assert caught.value.http_status == 500
    assert not isinstance(caught.value, IndeterminateError)
    assert ncmec_simulator.reports() == []


def test_connection_refused_is_retryable_not_indeterminate():
    client = CyberTiplineClient(f"http://127.0.0.1:{free_port()}/ispws", "u", "p", connect_timeout=1)
    with pytest.raises(RetryableError) as caught:
        client.status()
    assert not isinstance(caught.value, IndeterminateError)


def test_read_timeout_is_indeterminate_and_the_effect_happens_late(ncmec_simulator):
    client = CyberTiplineClient(
        ncmec_simulator.base_url, ncmec_simulator.username, ncmec_simulator.password, read_timeout=0.3
    )
    ncmec_simulator.set_fault("submit", "timeout", timeout_ms=600)
    with pytest.raises(IndeterminateError):
        client.submit(REPORT_XML)
    # The service acted after the client gave up: an orphan open report the client never heard of.
    assert wait_for(lambda: len(ncmec_simulator.reports(state="open")) == 1)


def test_dropped_finish_is_indeterminate_but_finished_and_a_retry_reports_5102(ncmec_simulator, ncmec_client):
    report_id = ncmec_client.submit(REPORT_XML)
    ncmec_simulator.set_fault("finish", "drop")

    with pytest.raises(IndeterminateError):
        ncmec_client.finish(report_id)

    assert ncmec_simulator.report(report_id)["state"] == "finished"
    with pytest.raises(ReportStateError) as retry:
        ncmec_client.finish(report_id)
    assert retry.value.already_finished  # the caller counts this as success
    assert len(ncmec_simulator.reports(state="finished")) == 1


def test_dropped_submit_leaves_an_open_report(ncmec_simulator, ncmec_client):
    ncmec_simulator.set_fault("submit", "drop")
    with pytest.raises(IndeterminateError):
        ncmec_client.submit(REPORT_XML)
    assert [r["state"] for r in ncmec_simulator.reports()] == ["open"]


def test_dropped_upload_stores_the_file(ncmec_simulator, ncmec_client, tmp_path):
    report_id = ncmec_client.submit(REPORT_XML)
    path = tmp_path / "f.bin"
    path.write_bytes(b"content")
    ncmec_simulator.set_fault("upload", "drop")
    with pytest.raises(IndeterminateError):
        ncmec_client.upload(report_id, path)
    assert len(ncmec_simulator.report(report_id)["files"]) == 1


def test_oversize_response_is_refused(ncmec_simulator):
    client = CyberTiplineClient(
        ncmec_simulator.base_url, ncmec_simulator.username, ncmec_simulator.password, max_response_bytes=64
    )
    with pytest.raises(DataError, match="exceeds 64"):
        client.status()


def test_oversize_response_without_length_is_refused_while_reading():
    chunks = [b"<reportResponse>"] + [b"<x>" + b"a" * 1000 + b"</x>"] * 100
    with stub_server("200 OK", chunks, [("Content-Type", "text/xml")]) as base_url:
        client = CyberTiplineClient(base_url, "u", "p", max_response_bytes=10_000)
        with pytest.raises(DataError, match="exceeds 10000"):
            client.status()


def test_unparseable_success_is_a_data_error():
    with stub_server("200 OK", [b"<html>maintenance</html>"], [("Content-Type", "text/html")]) as base_url:
        with pytest.raises(DataError, match="unparseable"):
            CyberTiplineClient(base_url, "u", "p").status()


@pytest.mark.parametrize("status", ["502 Bad Gateway", "504 Gateway Timeout"])
def test_gateway_errors_are_indeterminate(status):
    with stub_server(status, [b"gateway"], [("Content-Type", "text/plain")]) as base_url:
        with pytest.raises(IndeterminateError):
            CyberTiplineClient(base_url, "u", "p").finish("100001")


def test_md5_mismatch_on_upload_is_a_data_error(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"content")
    body = (
        b"<reportResponse><responseCode>0</responseCode><responseDescription>Success</responseDescription>"
        b"<reportId>1</reportId><fileId>abc</fileId><hash>00000000000000000000000000000000</hash>"
        b"</reportResponse>"
    )
    with stub_server("200 OK", [body], [("Content-Type", "text/xml")]) as base_url:
        with pytest.raises(ChecksumMismatchError, match="MD5 mismatch for fileId abc"):
            CyberTiplineClient(base_url, "u", "p").upload("1", path)


def test_upload_sends_an_ascii_file_name_in_the_part_header(ncmec_simulator, ncmec_client, tmp_path):
    """The real name, whatever its script or quotes, goes in fileDetails; the multipart header stays ASCII."""
    path = tmp_path / "evidence.bin"
    path.write_bytes(b"evidence")
    report_id = ncmec_client.submit(REPORT_XML)
    ncmec_client.upload(report_id, path, filename='фото "1"\r\n\u202e.JPG')
    [stored] = ncmec_simulator.report(report_id)["files"]
    assert stored["filename"].isascii()
    assert stored["filename"].endswith(".JPG")
    assert '"' not in stored["filename"] and "\r" not in stored["filename"]


def test_wrong_base_path_needs_an_admin(ncmec_simulator):
    client = CyberTiplineClient(
        ncmec_simulator.root_url + "/wrong", ncmec_simulator.username, ncmec_simulator.password
    )
    with pytest.raises(NeedsAdminError, match="base URL"):
        client.status()


# --- fault controls -----------------------------------------------------------------------------------------


def test_count_limited_fault_fails_the_next_n_calls(ncmec_simulator, ncmec_client):
    report_id = ncmec_client.submit(REPORT_XML)
    ncmec_simulator.set_fault("finish", "code", code=1000, times=2)
    for _ in range(2):
        with pytest.raises(RetryableError):
            ncmec_client.finish(report_id)
    assert ncmec_client.finish(report_id).report_id == report_id
    assert ncmec_simulator.stats()["calls"]["finish"] == 3


def test_probabilistic_fault_is_repeatable_with_a_seed(ncmec_simulator, ncmec_client):
    ncmec_simulator.set_fault("status", "code", code=1000, probability=0.5, seed=11, times=None)
    outcomes = []
    for _ in range(20):
        try:
            ncmec_client.status()
            outcomes.append(True)
        except RetryableError:
            outcomes.append(False)
    rng = random.Random(11)
    assert outcomes == [rng.random() >= 0.5 for _ in range(20)]


def test_delay_and_global_latency(ncmec_simulator, ncmec_client):
    ncmec_simulator.set_latency(100)
    ncmec_simulator.set_fault("status", "delay", delay_ms=150)
    started = time.monotonic()
    ncmec_client.status()
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    ncmec_client.status()
    assert time.monotonic() - started >= 0.1  # the latency is every call's
    # The delay was the first call's alone (counted, not timed: a busy machine stretches any call).
    assert ncmec_simulator.stats()["faults_fired"] == {"status:delay": 1}


def test_faults_over_http(ncmec_simulator, ncmec_client):
    faults_url = f"{ncmec_simulator.root_url}/_sim/faults"
    answer = requests.post(
        faults_url,
        json={"faults": [{"endpoint": "*", "action": "code", "code": 3000}], "latency_ms": 5},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json()["latency_ms"] == 5
    assert requests.get(faults_url, timeout=5).json()["faults"][0]["endpoint"] == "*"

    with pytest.raises(NeedsAdminError):
        ncmec_client.status()

    requests.post(faults_url, json={"endpoint": "status", "action": "http_500", "times": None}, timeout=5)
    requests.delete(faults_url, timeout=5)
    assert ncmec_client.status().response_code == 0

    bad = requests.post(faults_url, json={"endpoint": "status", "action": "explode"}, timeout=5)
    assert bad.status_code == 400
    assert "explode" in bad.json()["error"]


def test_inspection_json_stats_and_escaped_page(ncmec_simulator, ncmec_client):
    hostile = build_report_xml(sample_report()).replace(b"Rita", b"&lt;script&gt;alert(1)&lt;/script&gt;")
    report_id = ncmec_client.submit(hostile)

    listing = requests.get(f"{ncmec_simulator.root_url}/_sim/reports", timeout=5).json()
    assert [r["report_id"] for r in listing] == [report_id]
    one = requests.get(f"{ncmec_simulator.root_url}/_sim/reports/{report_id}", timeout=5).json()
    assert one["reporting_person"]["first_name"] == "<script>alert(1)</script>"
    assert "xml" in one
    assert requests.get(f"{ncmec_simulator.root_url}/_sim/reports/424242", timeout=5).status_code == 404
    assert requests.get(f"{ncmec_simulator.root_url}/_sim/stats", timeout=5).json()["calls"] == {"submit": 1}

    page = requests.get(f"{ncmec_simulator.root_url}/", timeout=5).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_concurrent_clients_get_distinct_reports(ncmec_simulator):
    results: list[str] = []
    errors: list[Exception] = []

    def file_one() -> None:
        client = CyberTiplineClient(
            ncmec_simulator.base_url, ncmec_simulator.username, ncmec_simulator.password
        )
        try:
            report_id = client.submit(REPORT_XML)
            client.finish(report_id)
            results.append(report_id)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=file_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert len(set(results)) == 8
    assert len(ncmec_simulator.reports(state="finished")) == 8


def test_base_url_for_environments():
    assert base_url_for("production") == PRODUCTION_URL == "https://report.cybertip.org/ispws"
    assert base_url_for("test") == TEST_URL == "https://exttest.cybertip.org/ispws"
    assert base_url_for("test", "http://127.0.0.1:8765/ispws/") == "http://127.0.0.1:8765/ispws"
    with pytest.raises(ValueError):
        base_url_for("staging")


def test_simulator_runs_as_a_module(tmp_path):
    port = free_port()
    db = tmp_path / "sim.sqlite"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            str(port),
            "--username",
            "u",
            "--db",
            str(db),
        ],
        env={**os.environ, "CYBERTIPLINE_SIM_PASSWORD": "p"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert b"/ispws" in process.stdout.readline()
        client = CyberTiplineClient(f"http://127.0.0.1:{port}/ispws", "u", "p")
        report_id = client.submit(REPORT_XML)
        client.finish(report_id)
        stored = requests.get(f"http://127.0.0.1:{port}/_sim/reports/{report_id}", timeout=5).json()
        assert stored["state"] == "finished"
        assert json.loads(requests.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=5).text)["calls"] == {
            "submit": 1,
            "finish": 1,
        }
    finally:
        process.terminate()
        process.wait(5)
    assert db.exists()


def test_upload_is_streamed_with_a_content_length(tmp_path, monkeypatch):
    seen: dict[str, object] = {}
    reads: list[int] = []
    path = tmp_path / "big.bin"
    path.write_bytes(b"z" * 1_000_000)
    real_open = type(path).open

    class CountingFile:
        def __init__(self, file):
            self._file = file

        def read(self, size=-1):
            chunk = self._file.read(size)
            reads.append(len(chunk))
            return chunk

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._file.close()

    def spying_open(self, mode="r", *args, **kwargs):
        file = real_open(self, mode, *args, **kwargs)
        return CountingFile(file) if self == path else file

    monkeypatch.setattr(type(path), "open", spying_open)

    def app(environ, start_response):
        request = Request(environ)
        seen["content_length"] = request.content_length
        seen["chunked"] = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "")
        upload = request.files["file"]
        data = upload.read()
        seen["size"] = len(data)
        md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - the API's own hash
        body = (
            "<reportResponse><responseCode>0</responseCode><reportId>1</reportId><fileId>f</fileId>"
            f"<hash>{md5}</hash></reportResponse>"
        )
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [body.encode()]

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        client = CyberTiplineClient(f"http://127.0.0.1:{server.server_port}/ispws", "u", "p")
        assert client.upload("1", path).file_id == "f"
    finally:
        server.shutdown()
        server.server_close()

    assert seen["size"] == 1_000_000
    assert seen["chunked"] is False
    assert seen["content_length"] > 1_000_000
    assert max(reads) < 1_000_000  # read in blocks, never whole
