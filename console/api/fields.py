"""The API's small field checkers: each adds "path": "message" to ``errors`` and returns the clean value.

Shared by the request's parts (console/api/ingestion.py, case_details.py, platform_details.py): one rule per
kind of value (text, URL, time, flag, email, age), so that every field of one kind is refused for the same
reasons, in the same words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from console.ncmec import constants as ncmec
from console.text_rules import echo, text_problem
from console.timeutil import utcnow

# Upstream clocks drift; a report "from the future" beyond this is a bug in the sender (wrong offset).
CLOCK_SKEW = timedelta(minutes=5)
# Nothing the console reports happened before the Unix epoch; an earlier date is a sender's bug (a zero date).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# NCMEC allows 2083 characters in a URL; the console's URL columns hold 2000.
URL_STORED_MAX = min(ncmec.URL_MAX, 2000)
EMAIL_MAX = 254
AGE_MAX = 130


def string(
    obj: dict,
    key: str,
    errors: dict,
    *,
    required: bool = False,
    max_len: int = 300,
    path: str | None = None,
    strip: bool = True,
    multiline: bool = False,
) -> str:
    path = path or key
    value = obj.get(key)
    if value is None or value == "":
        if required:
            errors[path] = "is required"
        return ""
    if not isinstance(value, str):
        errors[path] = "must be a string"
        return ""
    problem = text_problem(value, multiline=multiline)
    if problem:
        # Refused, never cleaned: the sender must know its data is not what it meant to send.
        errors[path] = problem
        return ""
    if strip:
        value = value.strip()
    if required and not value:
        errors[path] = "is required"
    if len(value) > max_len:
        errors[path] = f"must be at most {max_len} characters"
        return ""
    return value


def url(obj: dict, key: str, errors: dict, path: str | None = None) -> str:
    path = path or key
    value = string(obj, key, errors, max_len=URL_STORED_MAX, path=path)
    if value:
        problem = ncmec.url_problem(value)
        if problem:
            errors[path] = problem
            return ""
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unbalanced "[" in the host
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            errors[path] = "must be an http(s) URL"
            return ""
    return value


def moment(value: Any, path: str, errors: dict, *, required: bool = False) -> datetime | None:
    if value is None or value == "":
        if required:
            errors[path] = "is required (ISO 8601 with a UTC offset, e.g. 2024-05-01T13:45:00+00:00)"
        return None
    if not isinstance(value, str):
        errors[path] = "must be an ISO 8601 string with a UTC offset"
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors[path] = "is not an ISO 8601 date and time"
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time is ambiguous by up to a day, and NCMEC's incidentDateTime must be exact.
        errors[path] = "needs a UTC offset (e.g. +00:00 or Z): a time without one is ambiguous"
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00 is before year 1 in UTC
        errors[path] = "is out of range"
        return None
    if moment < EARLIEST:
        errors[path] = "is before 1970: check the date"
        return None
    if moment > utcnow() + CLOCK_SKEW:
        errors[path] = "is in the future: check the UTC offset"
        return None
    return moment


def unknown_key(key: Any) -> str:
    """An unknown field's name as an error path: repeated only when short and plain."""
    key = str(key)
    if len(key) <= 64 and text_problem(key) is None:
        return key
    return echo(key, 40)


def boolean(obj: dict, key: str, errors: dict, path: str | None = None) -> bool | None:
    """A JSON true or false (absent or null: None). "yes", 1 and "true" are refused: a flag sent to NCMEC
    must say what the platform meant."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        errors[path or key] = "must be true or false"
        return None
    return value


def email(obj: dict, key: str, errors: dict, path: str | None = None) -> str:
    path = path or key
    address = string(obj, key, errors, max_len=EMAIL_MAX, path=path)
    if address and "@" not in address:
        errors[path] = "is not an email address"
        return ""
    return address


def text_list(
    obj: dict, key: str, errors: dict, *, max_items: int, max_len: int, path: str | None = None, item=None
) -> list[str]:
    """A list of short strings (phones, emails), each checked by ``item`` (default: ``string``), once each."""
    path = path or key
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        errors[path] = f"expected a list of at most {max_items} strings"
        return []
    check = item or (lambda o, k, e, path: string(o, k, e, max_len=max_len, path=path))
    out = [check({"v": v}, "v", errors, path=f"{path}[{i}]") for i, v in enumerate(value)]
    return list(dict.fromkeys(v for v in out if v))


def choice(obj: dict, key: str, errors: dict, allowed, *, path: str | None = None, required=False) -> str:
    """One of ``allowed`` exactly (an XSD enumeration: NCMEC refuses anything else)."""
    path = path or key
    value = string(obj, key, errors, required=required, max_len=100, path=path)
    if value and value not in allowed:
        options = list(allowed)
        listed = ", ".join(options) if len(options) <= 10 else "a code of " + ", ".join(options[:5]) + " …"
        errors[path] = f"must be one of {listed}"
        return ""
    return value


def age(obj: dict, key: str, errors: dict, path: str | None = None) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python; `true` is not an age.
    if type(value) is not int or not 0 <= value <= AGE_MAX:
        errors[path or key] = f"must be a whole number of years from 0 to {AGE_MAX}"
        return None
    return value


def birth_date(obj: dict, key: str, errors: dict, path: str | None = None) -> str:
    """A date of birth, YYYY-MM-DD, between 1900 and today (as ISO text)."""
    path = path or key
    born = string(obj, key, errors, max_len=10, path=path)
    if not born:
        return ""
    try:
        day = date.fromisoformat(born)
    except ValueError:
        errors[path] = "must be a date, YYYY-MM-DD"
        return ""
    if not date(1900, 1, 1) <= day <= date.today():
        errors[path] = "must be a date between 1900 and today"
        return ""
    return day.isoformat()
