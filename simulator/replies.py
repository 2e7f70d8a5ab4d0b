"""What the simulator answers: the response codes and the exact reply bytes the real service sends.

The shapes come from replies recorded from the real service (``/work/shared/ncmec/RECORDED.md``): the
prolog with double quotes and ``standalone="yes"``, everything on one line, and a Content-Type that says
ISO-8859-1 while the prolog says UTF-8. A client that trusts the header over the prolog breaks on any
non-ASCII description, which is why the simulator repeats the quirk instead of fixing it.
"""

from __future__ import annotations

from lxml import etree
from werkzeug.wrappers import Response

# The service's header, byte for byte (no space after the semicolon).
CONTENT_TYPE = "application/xml;charset=ISO-8859-1"
PROLOG = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
REALM = "ESP Web Services"

SUCCESS = 0
SERVER_ERROR = 1000
# Not in NCMEC's documented list: the real service's answer to a document that fails the schema.
MALFORMED_SUBMITTAL = 1001
INVALID_REQUEST = 4000
MALFORMED_FILE_SUBMITTAL = 4200
REPORT_DOES_NOT_EXIST = 5001
FILE_DOES_NOT_EXIST = 5002
REPORT_ALREADY_RETRACTED = 5101
REPORT_ALREADY_FINISHED = 5102

# The simulator's own list, from NCMEC's documentation; deliberately not shared with the console's client,
# so that a wrong guess on one side cannot hide behind the same guess on the other.
DESCRIPTIONS = {
    SUCCESS: "Success",
    SERVER_ERROR: "Server error",
    MALFORMED_SUBMITTAL: "Malformed (xml) submittal",
    1100: "Save failed",
    1110: "Upload failed",
    1111: "File upload failed",
    1210: "Resource not found",
    1300: "Update failed",
    2000: "Authentication required",
    3000: "Not authorized for this action",
    3100: "Not authorized to make submissions",
    3300: "Not authorized to make updates",
    INVALID_REQUEST: "Invalid request",
    4100: "Validation failed",
    4110: "Malformed XML",
    MALFORMED_FILE_SUBMITTAL: "Malformed file submittal",
    REPORT_DOES_NOT_EXIST: "Report does not exist",
    FILE_DOES_NOT_EXIST: "File does not exist",
    REPORT_ALREADY_RETRACTED: "Report already retracted",
    REPORT_ALREADY_FINISHED: "Report already finished",
}


def describe(code: int) -> str:
    return DESCRIPTIONS.get(code, f"Error {code}")


def _xml_reply(root: etree._Element, http_status: int) -> Response:
    body = PROLOG + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    response = Response(body, status=http_status)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


def report_response(
    code: int,
    description: str | None = None,
    *,
    report_id: str | None = None,
    file_id: str | None = None,
    file_hash: str | None = None,
    http_status: int = 200,
) -> Response:
    """A ``reportResponse``: every reply but a successful ``/finish``. Errors come with HTTP 200 too."""
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "responseDescription").text = description or describe(code)
    if report_id is not None:
        etree.SubElement(root, "reportId").text = report_id
    if file_id is not None:
        etree.SubElement(root, "fileId").text = file_id
    if file_hash is not None:
        etree.SubElement(root, "hash").text = file_hash
    return _xml_reply(root, http_status)


def report_done_response(report_id: str, file_ids: list[str]) -> Response:
    """The successful ``/finish`` reply: another root element, and no ``responseDescription`` at all."""
    root = etree.Element("reportDoneResponse")
    etree.SubElement(root, "responseCode").text = str(SUCCESS)
    etree.SubElement(root, "reportId").text = report_id
    files = etree.SubElement(root, "files")  # serialised as <files/> when there are none, as recorded
    for file_id in file_ids:
        etree.SubElement(files, "fileId").text = file_id
    return _xml_reply(root, 200)


def unauthorised() -> Response:
    """Wrong or missing credentials: the web server's 401 with an empty body, never a ``reportResponse``."""
    response = Response(b"", status=401)
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return response
