"""A simulator per test, and an ESP that calls it over raw HTTP (no console client in between)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from simulator import SimulatorServer, serve_in_thread

from .documents import MINIMAL_REPORT

USERNAME = "Ello"  # as in the recorded /status reply
PASSWORD = "sim-test-password"  # noqa: S105 - the local simulator's test credential
XSD_PATH = Path(__file__).resolve().parents[2] / "console" / "ncmec" / "xsd" / "cyber_tipline.xsd"


class Esp:
    """An ESP's calls to the service, each returning the raw HTTP response."""

    def __init__(self, server: SimulatorServer, username: str = USERNAME, password: str | None = PASSWORD):
        self.server = server
        self.auth = (username, password) if password is not None else None

    def _url(self, call: str) -> str:
        return f"{self.server.base_url}/{call}"

    def status(self) -> requests.Response:
        return requests.get(self._url("status"), auth=self.auth, timeout=5)

    def xsd(self) -> requests.Response:
        return requests.get(self._url("xsd"), auth=self.auth, timeout=5)

    def submit(self, document: bytes = MINIMAL_REPORT) -> requests.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        return requests.post(self._url("submit"), data=document, headers=headers, auth=self.auth, timeout=5)

    def upload(self, report_id: str | None, data: bytes | None = b"evidence", filename: str = "a.jpg"):
        fields = {"id": report_id} if report_id is not None else {}
        files = {"file": (filename, data)} if data is not None else {"other": ("x", b"")}
        return requests.post(self._url("upload"), data=fields, files=files, auth=self.auth, timeout=5)

    def fileinfo(self, document: bytes) -> requests.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        return requests.post(self._url("fileinfo"), data=document, headers=headers, auth=self.auth, timeout=5)

    def finish(self, report_id: str | None) -> requests.Response:
        data = {"id": report_id} if report_id is not None else {}
        return requests.post(self._url("finish"), data=data, auth=self.auth, timeout=5)

    def retract(self, report_id: str | None) -> requests.Response:
        data = {"id": report_id} if report_id is not None else {}
        return requests.post(self._url("retract"), data=data, auth=self.auth, timeout=5)

    # Steps that tests take often.

    def open_report(self) -> str:
        return field(self.submit(), "reportId")

    def add_file(self, report_id: str, data: bytes = b"evidence") -> str:
        return field(self.upload(report_id, data), "fileId")


def field(response: requests.Response, tag: str) -> str:
    match = re.search(rf"<{tag}>([^<]*)</{tag}>".encode(), response.content)
    assert match, f"no <{tag}> in {response.content!r}"
    return match.group(1).decode()


def code(response: requests.Response) -> int:
    return int(field(response, "responseCode"))


@pytest.fixture(scope="session")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = serve_in_thread(username=USERNAME, password=PASSWORD)
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def esp(sim: SimulatorServer) -> Esp:
    return Esp(sim)
