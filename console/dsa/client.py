"""HTTP client for the Transparency Database's statement-of-reasons API: ping, create one, create 1–100, and
the existing-PUID lookup.

Every call returns a parsed success or raises one of errors.py's classes. Statements are checked against
validation.py before they leave (``LocalValidationError``, nothing sent); ``check_before_sending=False`` sends
them as they are, to hear the service's own verdict (tests, and diagnosing a disagreement between the two).

Redirects are never followed: the lookup answers "found" with a 302 that has no Location, and any other
redirect means the request was not read as an API call.

Timeouts: 5 s to connect, 20 s per read, and the whole answer read within ``read_timeout``: a call ends
within about 25 s, far below RQ's job timeout (180 s), so a job making a few calls is never killed mid-way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from .constants import (
    BATCH_KEY,
    EXISTING_PUID_PATH,
    EXISTING_PUIDS_KEY,
    NOT_UNIQUE_BATCH,
    NOT_UNIQUE_SINGLE,
    PING_ANSWER,
    PING_PATH,
    PUID_LOCK_SECONDS,
    STATEMENT_PATH,
    STATEMENTS_PATH,
)
from .errors import (
    DsaError,
    DuplicatePuidError,
    IndeterminateError,
    LocalValidationError,
    NeedsAdminError,
    RateLimitedError,
    StatementRejectedError,
    TransientError,
    UnexpectedResponseError,
)
from .statement import Statement
from .validation import batch_problems, problems

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
# A full batch with every free-text field at its limit is about 1.3 MB; anything far beyond is not the API.
MAX_RESPONSE_BYTES = 8_000_000
DEFAULT_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class Receipt:
    """A statement the service answered 201 for: it exists, with this uuid."""

    puid: str
    uuid: str
    created_at: str | None
    body: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    raw: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.raw)
        except ValueError:
            return None


class TransparencyDatabaseClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        puid_lock_seconds: float = PUID_LOCK_SECONDS,
        check_before_sending: bool = True,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self.puid_lock_seconds = puid_lock_seconds
        self.check_before_sending = check_before_sending
        self.session = session or requests.Session()
        self._token = token

    def __repr__(self) -> str:
        return f"TransparencyDatabaseClient({self.base_url!r})"  # never the token

    # --- the API --------------------------------------------------------------------------------------------

    def ping(self) -> None:
        """Check the base URL and the token ("Test connection"); raises when either is wrong."""
        answer = self._call("GET", PING_PATH)
        self._raise_for_common(answer, PING_PATH)
        if answer.status != 200 or answer.json() != PING_ANSWER:
            raise UnexpectedResponseError(
                f"{PING_PATH} did not answer pong; is this the Transparency Database?",
                http_status=answer.status,
                body=_shown(answer),
            )

    def submit(self, statement: Statement | Mapping[str, Any], *, checked: bool = False) -> Receipt:
        """Create one statement (``POST /api/v1/statement``). ``checked``: the caller has just run
        validation.problems on it (deliver does), so it is not checked twice."""
        body = _body(statement)
        if self.check_before_sending and not checked and (found := problems(body, batch=False)):
            raise LocalValidationError(_summary(found), found)
        answer = self._call("POST", STATEMENT_PATH, body)
        self._raise_for_common(answer, STATEMENT_PATH)
        data = answer.json()
        if answer.status == 201 and isinstance(data, dict):
            return _receipt(data, STATEMENT_PATH, answer)
        if answer.status == 422 and isinstance(data, dict):
            errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
            message = str(data.get("message") or _summary(errors))
            if "existing" in data or NOT_UNIQUE_SINGLE in (errors.get("puid") or []):
                existing = data.get("existing") if isinstance(data.get("existing"), dict) else {}
                raise DuplicatePuidError(
                    message, [str(body.get("puid"))], existing, http_status=422, body=data
                )
            raise StatementRejectedError(message, errors, http_status=422, body=data)
        raise UnexpectedResponseError(
            f"{STATEMENT_PATH}: unexpected answer", http_status=answer.status, body=_shown(answer)
        )

    def submit_batch(
        self, statements: Sequence[Statement | Mapping[str, Any]], *, checked: bool = False
    ) -> list[Receipt]:
        """Create 1–100 statements in one call (``POST /api/v1/statements``): all are stored, or none.

        Returns one receipt per statement, in the order given (matched on the PUID, not the position).
        ``checked``: as for ``submit``.
        """
        bodies = [_body(s) for s in statements]
        if self.check_before_sending and not checked and (found := batch_problems(bodies)):
            raise LocalValidationError(_summary(found), found)
        answer = self._call("POST", STATEMENTS_PATH, {BATCH_KEY: bodies})
        self._raise_for_common(answer, STATEMENTS_PATH)
        data = answer.json()
        if answer.status == 201 and isinstance(data, dict) and isinstance(data.get(BATCH_KEY), list):
            by_puid = {}
            for element in data[BATCH_KEY]:
                receipt = _receipt(element, STATEMENTS_PATH, answer)
                by_puid[receipt.puid] = receipt
            sent = [str(b["puid"]) for b in bodies]
            if set(by_puid) != set(sent):
                raise UnexpectedResponseError(
                    f"{STATEMENTS_PATH}: the 201 does not list the PUIDs sent", http_status=201, body=data
                )
            return [by_puid[puid] for puid in sent]
        if answer.status == 422 and isinstance(data, dict) and isinstance(data.get("errors"), dict):
            errors = data["errors"]
            if EXISTING_PUIDS_KEY in errors:
                # Integer-looking PUIDs come back as JSON numbers (PHP array keys): compare as strings.
                puids = [str(p) for p in errors.get(EXISTING_PUIDS_KEY) or []]
                message = str(data.get("message") or NOT_UNIQUE_BATCH)
                raise DuplicatePuidError(message, puids, http_status=422, body=data)
            # The per-statement answer has no "message" key.
            message = str(data.get("message") or _summary(errors))
            raise StatementRejectedError(message, errors, http_status=422, body=data)
        raise UnexpectedResponseError(
            f"{STATEMENTS_PATH}: unexpected answer", http_status=answer.status, body=_shown(answer)
        )

    def puid_exists(self, puid: str) -> bool:
        """Whether the platform has already used this PUID (``GET existing-puid``: 302 found, 404 not)."""
        path = EXISTING_PUID_PATH.format(puid=quote(str(puid), safe=""))
        answer = self._call("GET", path)
        self._raise_for_common(answer, path, redirect_allowed=True)
        data = answer.json()
        answers_for_puid = isinstance(data, dict) and str(data.get("puid")) == str(puid)
        if answer.status == 302 and answers_for_puid:
            return True
        if answer.status == 404 and answers_for_puid:
            return False
        if answer.status == 404:
            raise NeedsAdminError(f"{path}: not found; check the base URL {self.base_url!r}", http_status=404)
        raise UnexpectedResponseError(
            f"{path}: unexpected answer", http_status=answer.status, body=_shown(answer)
        )

    # --- transport ------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> _Answer:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data = None
        if body is not None:
            # Without this Content-Type the service reads no body and refuses every required field.
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                data=data,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout as error:
            raise TransientError(f"{path}: connect timeout ({error})") from error
        except requests.exceptions.ReadTimeout as error:
            raise self._lost(path, f"no answer within {self.read_timeout}s after sending") from error
        except (requests.exceptions.SSLError, requests.exceptions.ProxyError) as error:
            raise TransientError(f"{path}: could not connect ({error})") from error
        except requests.exceptions.ConnectionError as error:
            if _failed_before_sending(error):
                raise TransientError(f"{path}: could not connect ({error})") from error
            raise self._lost(path, f"connection dropped after sending ({error})") from error
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as error:
            raise NeedsAdminError(f"{path}: invalid base URL {self.base_url!r} ({error})") from error
        except requests.exceptions.RequestException as error:
            raise self._lost(path, str(error)) from error
        with response:
            raw = self._read(response, path)
        return _Answer(response.status_code, response.headers, raw)

    def _read(self, response: requests.Response, path: str) -> bytes:
        deadline = time.monotonic() + self.read_timeout
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > self.max_response_bytes:
                    raise UnexpectedResponseError(
                        f"{path}: answer larger than {self.max_response_bytes} bytes",
                        http_status=response.status_code,
                    )
                if time.monotonic() > deadline:
                    raise self._lost(path, f"answer not complete within {self.read_timeout}s")
                chunks.append(chunk)
        except requests.exceptions.RequestException as error:
            # The status line came, so the service acted; the rest of its answer (the uuids) is lost.
            raise self._lost(path, f"answer cut off ({error})") from error
        return b"".join(chunks)

    def _lost(self, path: str, why: str) -> IndeterminateError:
        return IndeterminateError(f"{path}: {why}", retry_after=self.puid_lock_seconds)

    def _raise_for_common(self, answer: _Answer, path: str, *, redirect_allowed: bool = False) -> None:
        status = answer.status
        if status == 401:
            raise NeedsAdminError(f"{path}: the token was refused", http_status=401, body=_shown(answer))
        if status == 403:
            raise NeedsAdminError(
                f"{path}: the token's user may not create statements or has no platform",
                http_status=403,
                body=_shown(answer),
            )
        if status == 429:
            raise RateLimitedError(
                f"{path}: rate limit reached",
                retry_after=_retry_after(answer.headers.get("Retry-After")),
                http_status=429,
                body=_shown(answer),
            )
        if status in (502, 504):
            # A gateway gave up waiting; the service behind it may still have stored the statements.
            error = self._lost(path, f"gateway error {status}")
            error.http_status, error.body = status, _shown(answer)
            raise error
        if status >= 500:
            raise TransientError(f"{path}: server error", http_status=status, body=_shown(answer))
        if 300 <= status < 400 and not redirect_allowed:
            raise UnexpectedResponseError(
                f"{path}: redirected to {answer.headers.get('Location')!r}; not read as an API call",
                http_status=status,
            )
        if status == 404 and path in (PING_PATH, STATEMENT_PATH, STATEMENTS_PATH):
            raise NeedsAdminError(f"{path}: not found; check the base URL {self.base_url!r}", http_status=404)


def _body(statement: Statement | Mapping[str, Any]) -> dict[str, Any]:
    return statement.to_json() if isinstance(statement, Statement) else dict(statement)


def _receipt(data: Any, path: str, answer: _Answer) -> Receipt:
    if not isinstance(data, dict) or not data.get("uuid") or data.get("puid") in (None, ""):
        raise UnexpectedResponseError(
            f"{path}: a 201 without uuid and puid", http_status=answer.status, body=data
        )
    created = data.get("created_at")
    return Receipt(str(data["puid"]), str(data["uuid"]), None if created is None else str(created), data)


def _summary(errors: Mapping[str, Any]) -> str:
    """The service's way of summing up a 422: the first message and how many more there are."""
    messages = list(_messages(errors))
    if not messages:
        return "The statement was refused."
    more = len(messages) - 1
    return messages[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")


def _messages(errors: Any) -> Any:
    if isinstance(errors, Mapping):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _messages(value)
    else:
        yield str(errors)


def _retry_after(header: str | None) -> float:
    if not header:
        return DEFAULT_RETRY_AFTER
    header = header.strip()
    if header.isdigit():
        return max(float(header), 0.0)
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(moment.timestamp() - time.time(), 0.0)


def _shown(answer: _Answer) -> Any:
    """The answer's body as kept on an error: the JSON, or the first KiB of text."""
    data = answer.json()
    return data if data is not None else answer.raw[:1024].decode("utf-8", errors="replace")


def _failed_before_sending(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS): the request cannot have reached the service."""
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | NameResolutionError)


__all__ = ["DsaError", "Receipt", "TransparencyDatabaseClient"]
