"""What can go wrong when talking to the CyberTipline, grouped by what the caller must do next.

The grouping matters more than the message: the reporting job decides between "retry", "retry the same step on
the same report id", "stop and ask an admin" and "stop: our data is wrong" from the class alone.
"""

from __future__ import annotations

from .constants import (
    FILE_DOES_NOT_EXIST,
    REPORT_ALREADY_FINISHED,
    REPORT_ALREADY_RETRACTED,
    REPORT_DOES_NOT_EXIST,
)


class CyberTiplineError(Exception):
    """Base class. ``code`` is the body's responseCode when there was one; ``http_status`` the HTTP status."""

    def __init__(self, message: str, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        return " ".join(parts)


class RetryableError(CyberTiplineError):
    """The service did not act (connection refused, connect timeout, HTTP 5xx, codes 1xxx).

    Retry the same call later with backoff; repeating it cannot create a second effect.
    """


class IndeterminateError(RetryableError):
    """The request was sent but no complete answer came back (read timeout, connection dropped or reset).

    The service MAY have acted. What to do depends on the call: a retried ``finish`` on the same id is safe
    (5102 then means it worked); a retried ``upload`` may attach the file twice; a retried ``submit`` may open
    a second report, because the API has no idempotency key — record the outcome as "unknown" instead of
    resubmitting.
    """


class NeedsAdminError(CyberTiplineError):
    """Credentials or permissions are wrong (HTTP 401/403, codes 2xxx/3xxx). Stop and show it to an admin."""


class DataError(CyberTiplineError):
    """Our request or document was refused (4xxx) or the response made no sense (unparseable, too large).

    Retrying the same bytes will fail the same way: fix the data or the code, then retry by hand.
    """


class MalformedError(DataError):
    """The service refused our document as malformed or invalid (1001, 4100, 4110, or a "malformed" reply).

    The same bytes fail the same way every time; ``str()`` carries the service's own message.
    """


class ChecksumMismatchError(DataError):
    """NCMEC's MD5 of an uploaded file differs from ours: a damaged copy is attached to the open report."""


class InvalidDocumentError(DataError):
    """Our document broke NCMEC's XSD or documented field rules, so it was NOT sent. ``problems`` says why."""

    def __init__(self, what: str, problems: list) -> None:
        listed = "; ".join(str(p) for p in problems[:5]) + (" …" if len(problems) > 5 else "")
        super().__init__(f"{what} not sent, it would be refused: {listed}")
        self.problems = problems


class UnknownCodeError(CyberTiplineError):
    """A responseCode nobody documented. Retried a bounded number of times, then shown to a person."""


class ReportStateError(CyberTiplineError):
    """The report or file is not in the state the call assumed (5001, 5002, 5101, 5102).

    ``already_finished`` on a retried ``finish`` means the earlier attempt worked: treat it as success. On
    ``upload``/``fileinfo`` it means the report was closed without this file. ``already_retracted`` and
    ``report_missing`` (e.g. NCMEC expired an unfinished report) mean this report id is dead: start over only
    through the console's own records, never blindly.
    """

    @property
    def report_missing(self) -> bool:
        return self.code == REPORT_DOES_NOT_EXIST

    @property
    def file_missing(self) -> bool:
        return self.code == FILE_DOES_NOT_EXIST

    @property
    def already_retracted(self) -> bool:
        return self.code == REPORT_ALREADY_RETRACTED

    @property
    def already_finished(self) -> bool:
        return self.code == REPORT_ALREADY_FINISHED
