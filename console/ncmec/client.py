"""HTTP client for the CyberTipline Reporting API: status, submit, upload, fileinfo, finish, retract.

Every call either returns a parsed success or raises one of the errors in errors.py. The body's
``responseCode`` is checked on every call, because the service reports failures with HTTP 200.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import requests
from lxml import etree
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from . import schema
from .constants import PRODUCTION_URL, TEST_URL, CodeFamily, classify_code, describe_code
from .documents import parse_untrusted_xml
from .errors import (
    ChecksumMismatchError,
    CyberTiplineError,
    DataError,
    IndeterminateError,
    InvalidDocumentError,
    MalformedError,
    NeedsAdminError,
    ReportStateError,
    RetryableError,
    UnknownCodeError,
)

log = logging.getLogger(__name__)

ENVIRONMENTS = {"production": PRODUCTION_URL, "test": TEST_URL}


def base_url_for(environment: str, custom_url: str | None = None) -> str:
    """The base URL for ``production`` or ``test``; ``custom_url`` (e.g. the simulator) wins when given."""
    if custom_url:
        return custom_url.rstrip("/")
    try:
        return ENVIRONMENTS[environment]
    except KeyError:
        raise ValueError(f"unknown CyberTipline environment {environment!r}; use a custom URL") from None


@dataclass(frozen=True)
class ReportResponse:
    response_code: int
    description: str
    report_id: str | None = None
    file_id: str | None = None
    hash: str | None = None
    files: tuple[str, ...] = ()
    http_status: int | None = None
    raw: bytes = field(default=b"", repr=False, compare=False)  # the body as received (kept as evidence)


@dataclass(frozen=True)
class Reply:
    """A reply as it came off the wire, handed to the client's ``on_reply`` hook before it is interpreted."""

    endpoint: str
    report_id: str  # NCMEC's report id the call was about ("" when neither the call nor the reply names one)
    http_status: int
    body: bytes


# The calls whose replies are kept as evidence (not status or xsd).
KEPT_REPLIES = ("submit", "upload", "fileinfo", "finish", "retract")


@dataclass(frozen=True)
class UploadResult:
    file_id: str
    md5: str  # as computed by NCMEC, checked against ours while streaming


@dataclass(frozen=True)
class FinishResult:
    report_id: str
    file_ids: tuple[str, ...]
    raw_reply: bytes = field(default=b"", repr=False, compare=False)  # the body as received


_ERRORS_BY_FAMILY: dict[CodeFamily, type[CyberTiplineError]] = {
    CodeFamily.RETRYABLE: RetryableError,
    CodeFamily.NEEDS_ADMIN: NeedsAdminError,
    CodeFamily.MALFORMED: MalformedError,
    CodeFamily.DATA: DataError,
    CodeFamily.REPORT_STATE: ReportStateError,
    CodeFamily.UNKNOWN: UnknownCodeError,
}


def check_document(xml: bytes, what: str) -> None:
    """Refuse, before any call, a document that NCMEC's XSD or its documented field rules would refuse."""
    found = schema.problems(xml)
    if found:
        raise InvalidDocumentError(what, found)


class CyberTiplineClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_response_bytes: int = 1_000_000,
        session: requests.Session | None = None,
        on_reply: Callable[[Reply], None] | None = None,
    ) -> None:
        # Called with every reply of KEPT_REPLIES as received, error replies too; what it raises is logged and
        # never reaches the caller (keeping a reply must not change what the call did).
        self.on_reply = on_reply
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self.session = session or requests.Session()
        self._auth = (username, password)

    def __repr__(self) -> str:
        return f"CyberTiplineClient({self.base_url!r}, username={self._auth[0]!r})"

    # --- the API --------------------------------------------------------------------------------------------

    def status(self) -> ReportResponse:
        """Check connectivity and credentials ("test connection")."""
        return self._call("GET", "status")

    def fetch_xsd(self) -> bytes:
        """The service's own XSD, to compare with ours (schema.py) when the service changes."""
        response = self._send("GET", "xsd")
        with response:
            body = self._read_body(response, "xsd")
        if response.status_code != 200:
            raise DataError(f"/xsd answered HTTP {response.status_code}", http_status=response.status_code)
        if _parse_response(body, response.status_code) is not None:
            # The service refused with a reportResponse (code 4000 …) and HTTP 200: an error, not a schema.
            self._interpret("xsd", response.status_code, body)
            raise DataError("/xsd answered a reportResponse, not a schema", http_status=response.status_code)
        return body

    def submit(self, report_xml: bytes) -> str:
        """Open a report; returns its reportId. Nothing reaches law enforcement until ``finish``.

        The document is validated first: one that NCMEC would refuse raises InvalidDocumentError unsent.
        """
        check_document(report_xml, "The report")
        parsed = self._call(
            "POST", "submit", data=report_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        if not parsed.report_id:
            raise DataError("/submit succeeded without a reportId", code=parsed.response_code)
        return parsed.report_id

    def upload(
        self, report_id: str, path: str | os.PathLike[str], filename: str | None = None
    ) -> UploadResult:
        """Attach one file to an open report, streaming it from disk; verifies NCMEC's MD5 against ours.

        ``filename`` goes into the multipart header made ASCII-safe (the real name belongs in fileDetails'
        ``originalFileName``). A missing or unreadable file raises OSError before anything is sent.
        """
        path = Path(path)
        with path.open("rb") as file:
            body = _MultipartBody(
                {"id": str(report_id)},
                "file",
                ascii_filename(filename or path.name),
                file,
                path.stat().st_size,
            )
            parsed = self._call(
                "POST", "upload", about=str(report_id), data=body, headers={"Content-Type": body.content_type}
            )
        if not parsed.file_id:
            raise DataError("/upload succeeded without a fileId", code=parsed.response_code)
        ours = body.md5.hexdigest()
        if (parsed.hash or "").lower() != ours:
            # The file is attached but damaged in transit; the caller must not finish this report as is.
            raise ChecksumMismatchError(
                f"/upload MD5 mismatch for fileId {parsed.file_id}: NCMEC {parsed.hash}, ours {ours}"
            )
        return UploadResult(file_id=parsed.file_id, md5=ours)

    def fileinfo(self, file_details_xml: bytes) -> ReportResponse:
        """Describe one uploaded file (``fileDetails``); validated first, like ``submit``."""
        check_document(file_details_xml, "The file details")
        return self._call(
            "POST",
            "fileinfo",
            about=_report_id_in(file_details_xml),
            data=file_details_xml,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )

    def finish(self, report_id: str) -> FinishResult:
        """Close the report: the point of no return. A retry that gets 5102 means an earlier call worked."""
        parsed = self._call("POST", "finish", about=str(report_id), data={"id": str(report_id)})
        return FinishResult(
            report_id=parsed.report_id or str(report_id), file_ids=parsed.files, raw_reply=parsed.raw
        )

    def retract(self, report_id: str) -> ReportResponse:
        """Cancel a report that is not finished."""
        return self._call("POST", "retract", about=str(report_id), data={"id": str(report_id)})

    # --- transport ------------------------------------------------------------------------------------------

    def _call(self, method: str, endpoint: str, about: str = "", **kwargs: Any) -> ReportResponse:
        response = self._send(method, endpoint, **kwargs)
        with response:
            body = self._read_body(response, endpoint)
        self._keep(endpoint, about, response.status_code, body)
        return replace(self._interpret(endpoint, response.status_code, body), raw=body)

    def _keep(self, endpoint: str, about: str, http_status: int, body: bytes) -> None:
        if self.on_reply is None or endpoint not in KEPT_REPLIES:
            return
        try:
            if not about:  # /submit: the id is in the reply
                parsed = _parse_response(body, http_status)
                about = (parsed.report_id if parsed else None) or ""
            self.on_reply(Reply(endpoint, about, http_status, body))
        except Exception:
            log.exception("the %s reply could not be kept", endpoint)

    def _send(self, method: str, endpoint: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}/{endpoint}"
        where = f"/{endpoint}"
        try:
            return self.session.request(
                method,
                url,
                auth=self._auth,
                timeout=(self.connect_timeout, self.read_timeout),
                stream=True,
                allow_redirects=False,
                **kwargs,
            )
        except requests.exceptions.ConnectTimeout as error:
            raise RetryableError(f"{where}: connect timeout ({error})") from error
        except requests.exceptions.ReadTimeout as error:
            raise IndeterminateError(
                f"{where}: no answer within {self.read_timeout}s after sending"
            ) from error
        except (requests.exceptions.SSLError, requests.exceptions.ProxyError) as error:
            # Both fail while the connection is being set up, before the request line is written.
            raise RetryableError(f"{where}: could not connect ({error})") from error
        except requests.exceptions.ConnectionError as error:
            if _failed_before_sending(error):
                raise RetryableError(f"{where}: could not connect ({error})") from error
            raise IndeterminateError(f"{where}: connection dropped after sending ({error})") from error
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as error:
            raise NeedsAdminError(f"{where}: invalid base URL {self.base_url!r} ({error})") from error
        except requests.exceptions.RequestException as error:
            # Anything else may have happened after the bytes left: assume the service might have acted.
            raise IndeterminateError(f"{where}: {error}") from error

    def _read_body(self, response: requests.Response, endpoint: str) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise DataError(
                f"/{endpoint}: response of {declared} bytes exceeds {limit}", http_status=response.status_code
            )
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > limit:
                    raise DataError(
                        f"/{endpoint}: response exceeds {limit} bytes", http_status=response.status_code
                    )
                chunks.append(chunk)
        except requests.exceptions.RequestException as error:
            # The status line arrived, so the service has acted; we just lost the rest of its answer.
            raise IndeterminateError(
                f"/{endpoint}: response cut off ({error})", http_status=response.status_code
            ) from error
        return b"".join(chunks)

    def _interpret(self, endpoint: str, http_status: int, body: bytes) -> ReportResponse:
        where = f"/{endpoint}"
        parsed = _parse_response(body, http_status)
        if http_status in (401, 403):
            code = parsed.response_code if parsed else None
            raise NeedsAdminError(f"{where}: credentials refused (HTTP {http_status})", code, http_status)
        if http_status in (502, 504):
            # A gateway gave up waiting; the service behind it may still have acted.
            raise IndeterminateError(f"{where}: gateway error HTTP {http_status}", http_status=http_status)
        if http_status >= 500:
            code = parsed.response_code if parsed else None
            raise RetryableError(f"{where}: server error HTTP {http_status}", code, http_status)
        if parsed is None:
            if http_status == 404:
                raise NeedsAdminError(
                    f"{where}: not found; check the base URL {self.base_url!r}", http_status=404
                )
            raise DataError(f"{where}: unparseable response (HTTP {http_status})", http_status=http_status)
        code = parsed.response_code
        if code != 0:
            family = classify_code(code, parsed.description)
            message = f"{where}: {parsed.description or describe_code(code)}"
            raise _ERRORS_BY_FAMILY[family](message, code, http_status)
        if http_status >= 300:
            raise DataError(f"{where}: HTTP {http_status} with responseCode 0", code, http_status)
        return parsed


def _failed_before_sending(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS): the request cannot have reached NCMEC."""
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | NameResolutionError)


def _parse_response(body: bytes, http_status: int) -> ReportResponse | None:
    try:
        root = parse_untrusted_xml(body)
    except (etree.XMLSyntaxError, ValueError):
        return None
    # /finish answers reportDoneResponse (no responseDescription); every other call reportResponse.
    if root.tag not in ("reportResponse", "reportDoneResponse"):
        return None
    try:
        code = int((root.findtext("responseCode") or "").strip())
    except ValueError:
        return None
    files = tuple((node.text or "").strip() for node in root.findall("files/fileId"))
    return ReportResponse(
        response_code=code,
        description=(root.findtext("responseDescription") or "").strip(),
        report_id=_text(root, "reportId"),
        file_id=_text(root, "fileId"),
        hash=_text(root, "hash"),
        files=files,
        http_status=http_status,
    )


def _text(root: etree._Element, tag: str) -> str | None:
    value = root.findtext(tag)
    return value.strip() if value and value.strip() else None


class _MultipartBody:
    """A multipart/form-data body read from disk as it is sent, with its length known up front.

    requests' own ``files=`` reads the whole file into memory; videos can be gigabytes. A readable object with
    a length makes requests send a Content-Length and urllib3 stream it in blocks. The MD5 is computed on the
    way. (Deliberately not an io.IOBase: requests would call its tell(), get an error and fall back to
    chunked.)
    """

    def __init__(
        self, fields: dict[str, str], file_field: str, filename: str, file: IO[bytes], size: int
    ) -> None:
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        self._parts: list[IO[bytes]] = [io.BytesIO(head), file, io.BytesIO(tail)]
        self._file = file
        self._length = len(head) + size + len(tail)
        # NCMEC's API reports MD5; here it is a transfer check, not security.
        self.md5 = hashlib.md5(usedforsecurity=False)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while self._parts and (size < 0 or len(out) < size):
            part = self._parts[0]
            chunk = part.read(-1 if size < 0 else size - len(out))
            if not chunk:
                self._parts.pop(0)
                continue
            if part is self._file:
                self.md5.update(chunk)
            out += chunk
        return bytes(out)


def _report_id_in(document: bytes) -> str:
    """The reportId a fileDetails document names ("" if none can be read; it was validated before)."""
    try:
        root = parse_untrusted_xml(document)
    except Exception:
        return ""
    return (root.findtext("reportId") or "").strip()


def ascii_filename(name: str) -> str:
    """A file name safe in a multipart header on any server: ASCII letters, digits, ``._-`` only.

    NCMEC's service is a Java stack whose handling of non-ASCII or quoted names is not documented; the real
    name is sent in fileDetails instead, where XML carries it exactly.
    """
    base, dot, extension = name.rpartition(".")
    if not dot:
        base, extension = name, ""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "file"
    extension = re.sub(r"[^A-Za-z0-9]+", "", extension)[:10]
    return (safe[:100] + (f".{extension}" if extension else "")).lstrip(".") or "file"
