"""Every reply, byte for byte, in the shapes recorded from the real service (RECORDED.md)."""

from __future__ import annotations

import hashlib
import re

import pytest
from lxml import etree

from .conftest import XSD_PATH, Esp, code, field
from .documents import REPORTER_FIRST, file_details, file_details_out_of_order

CONTENT_TYPE = "application/xml;charset=ISO-8859-1"
PROLOG = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

# Recorded from the real service (report ids, file id and hash as recorded).
RECORDED_STATUS = (
    PROLOG + b"<reportResponse><responseCode>0</responseCode><responseDescription>Remote User : Ello, "
    b"Remote Ip : 96.90.179.38</responseDescription></reportResponse>"
)
RECORDED_SUBMIT = (
    PROLOG + b"<reportResponse><responseCode>0</responseCode><responseDescription>Success"
    b"</responseDescription><reportId>7855778</reportId></reportResponse>"
)
RECORDED_SCHEMA_FAILURE = (
    PROLOG + b"<reportResponse><responseCode>1001</responseCode><responseDescription>Malformed (xml) report "
    b"submittal - cvc-complex-type.2.4.a: Invalid content was found starting with element 'reporter'. "
    b"One of '{incidentSummary}' is expected.</responseDescription></reportResponse>"
)
RECORDED_UPLOAD = (
    PROLOG + b"<reportResponse><responseCode>0</responseCode><responseDescription>Success"
    b"</responseDescription><reportId>7855770</reportId><fileId>15a2034b50f2a558f6595a2b5e02ccce</fileId>"
    b"<hash>af3d0406f63a0f99a8684d568a59542f</hash></reportResponse>"
)
RECORDED_FINISH = (
    PROLOG + b"<reportDoneResponse><responseCode>0</responseCode><reportId>7855778</reportId><files/>"
    b"</reportDoneResponse>"
)
RECORDED_RETRACT = (
    PROLOG + b"<reportResponse><responseCode>0</responseCode><responseDescription>Success"
    b"</responseDescription><reportId>7855767</reportId></reportResponse>"
)


def _description(body: bytes) -> bytes:
    return re.search(rb"<responseDescription>(.*)</responseDescription>", body).group(1)


def test_status_names_the_user_and_the_callers_ip(esp):
    response = esp.status()

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content == RECORDED_STATUS.replace(b"96.90.179.38", b"127.0.0.1")


def test_submit_answers_success_with_a_numeric_report_id(esp):
    response = esp.submit()

    report_id = field(response, "reportId")
    assert report_id.isdigit()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content == RECORDED_SUBMIT.replace(b"7855778", report_id.encode())


def test_a_report_that_breaks_the_schema_gets_1001_with_the_validators_message(esp, sim):
    response = esp.submit(REPORTER_FIRST)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    message = _description(response.content)
    assert message.startswith(b"Malformed (xml) report submittal - ")
    assert b"'reporter'" in message and b"incidentSummary" in message
    # Same bytes as recorded once the validator's own wording is put in place of Xerces's.
    recorded_message = _description(RECORDED_SCHEMA_FAILURE)
    assert response.content == RECORDED_SCHEMA_FAILURE.replace(recorded_message, message)
    assert sim.reports() == []


def test_upload_answers_a_file_id_and_the_md5_of_the_bytes_received(esp):
    report_id = esp.open_report()
    data = bytes(range(256)) * 300

    response = esp.upload(report_id, data)

    file_id = field(response, "fileId")
    assert re.fullmatch(r"[0-9a-f]{32}", file_id)
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - the API's hash
    assert field(response, "hash") == md5
    assert response.headers["Content-Type"] == CONTENT_TYPE
    expected = (
        RECORDED_UPLOAD.replace(b"7855770", report_id.encode())
        .replace(b"15a2034b50f2a558f6595a2b5e02ccce", file_id.encode())
        .replace(b"af3d0406f63a0f99a8684d568a59542f", md5.encode())
    )
    assert response.content == expected


def test_finish_without_files_answers_report_done_with_empty_files(esp):
    report_id = esp.open_report()

    response = esp.finish(report_id)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content == RECORDED_FINISH.replace(b"7855778", report_id.encode())
    assert b"responseDescription" not in response.content


def test_finish_lists_every_uploaded_file_in_upload_order(esp):
    report_id = esp.open_report()
    first, second = esp.add_file(report_id, b"one"), esp.add_file(report_id, b"two")

    response = esp.finish(report_id)

    files = f"<files><fileId>{first}</fileId><fileId>{second}</fileId></files>".encode()
    assert response.content == RECORDED_FINISH.replace(b"7855778", report_id.encode()).replace(
        b"<files/>", files
    )


def test_retract_answers_success(esp):
    report_id = esp.open_report()

    response = esp.retract(report_id)

    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content == RECORDED_RETRACT.replace(b"7855767", report_id.encode())


@pytest.mark.parametrize("call", ["status", "xsd", "submit", "upload", "fileinfo", "finish", "retract"])
@pytest.mark.parametrize("password", ["wrong", None], ids=["wrong-password", "no-credentials"])
def test_bad_credentials_get_401_with_an_empty_body(sim, call, password):
    esp = Esp(sim, password=password)
    calls = {
        "status": esp.status,
        "xsd": esp.xsd,
        "submit": esp.submit,
        "upload": lambda: esp.upload("100001"),
        "fileinfo": lambda: esp.fileinfo(file_details("100001", "0" * 32)),
        "finish": lambda: esp.finish("100001"),
        "retract": lambda: esp.retract("100001"),
    }

    response = calls[call]()

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ESP Web Services"'
    assert response.content == b""
    assert sim.reports() == [] and sim.refusals() == []


def test_the_xsd_is_ncmecs_file(esp):
    response = esp.xsd()

    assert response.status_code == 200
    assert response.content == XSD_PATH.read_bytes()


def _open(esp: Esp) -> str:
    return esp.open_report()


def _finished(esp: Esp) -> str:
    report_id = esp.open_report()
    esp.finish(report_id)
    return report_id


def _retracted(esp: Esp) -> str:
    report_id = esp.open_report()
    esp.retract(report_id)
    return report_id


def _with_file(esp: Esp) -> tuple[str, str]:
    report_id = esp.open_report()
    return report_id, esp.add_file(report_id)


WITH_DOCTYPE = b'<!DOCTYPE r [<!ENTITY e "x">]><report>&e;</report>'

# (what the ESP does, the responseCode it must get)
REPLIES = {
    "status": (lambda esp: esp.status(), 0),
    "submit": (lambda esp: esp.submit(), 0),
    "submit out of order": (lambda esp: esp.submit(REPORTER_FIRST), 1001),
    "submit not well-formed": (lambda esp: esp.submit(b"<report><incidentSummary>"), 1001),
    "submit empty": (lambda esp: esp.submit(b""), 1001),
    "submit with a DOCTYPE": (lambda esp: esp.submit(WITH_DOCTYPE), 1001),
    "submit another root": (lambda esp: esp.submit(file_details("1", "a")), 1001),
    "upload": (lambda esp: esp.upload(_open(esp)), 0),
    "upload without id": (lambda esp: esp.upload(None), 4000),
    "upload without file": (lambda esp: esp.upload(_open(esp), None), 4200),
    "upload to no report": (lambda esp: esp.upload("424242"), 5001),
    "upload to a finished report": (lambda esp: esp.upload(_finished(esp)), 5102),
    "upload to a retracted report": (lambda esp: esp.upload(_retracted(esp)), 5101),
    "fileinfo": (lambda esp: esp.fileinfo(file_details(*_with_file(esp))), 0),
    "fileinfo out of order": (lambda esp: esp.fileinfo(file_details_out_of_order(*_with_file(esp))), 1001),
    "fileinfo for no file": (lambda esp: esp.fileinfo(file_details(_open(esp), "f" * 32)), 5002),
    "fileinfo for no report": (lambda esp: esp.fileinfo(file_details("424242", "f" * 32)), 5001),
    "finish": (lambda esp: esp.finish(_open(esp)), 0),
    "finish with files": (lambda esp: esp.finish(_with_file(esp)[0]), 0),
    "finish twice": (lambda esp: esp.finish(_finished(esp)), 5102),
    "finish a retracted report": (lambda esp: esp.finish(_retracted(esp)), 5101),
    "finish no report": (lambda esp: esp.finish("424242"), 5001),
    "finish without id": (lambda esp: esp.finish(None), 4000),
    "retract": (lambda esp: esp.retract(_open(esp)), 0),
    "retract twice": (lambda esp: esp.retract(_retracted(esp)), 5101),
    "retract a finished report": (lambda esp: esp.retract(_finished(esp)), 5102),
    "retract no report": (lambda esp: esp.retract("not-a-number"), 5001),
    "retract without id": (lambda esp: esp.retract(None), 4000),
}


@pytest.mark.parametrize("case", REPLIES)
def test_every_reply_is_one_line_of_valid_xml_per_ncmecs_schema(esp, xsd, case):
    action, expected_code = REPLIES[case]

    response = action(esp)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.content.startswith(PROLOG) and b"\n" not in response.content
    document = etree.fromstring(response.content)
    assert xsd.validate(document), xsd.error_log.last_error
    assert code(response) == expected_code
    done = case in ("finish", "finish with files")
    assert document.tag == ("reportDoneResponse" if done else "reportResponse")


def test_an_injected_code_is_a_valid_reply_too(sim, esp, xsd):
    sim.set_fault("submit", "code", code=1000)

    response = esp.submit()

    assert code(response) == 1000 and xsd.validate(etree.fromstring(response.content))
    assert sim.reports() == [] and sim.refusals() == []  # a fault, not a refusal
