"""The API's small field checkers: each adds "path": "message" to ``errors`` and returns the clean value.

Shared by the request's parts (console/api/ingestion.py, console/api/case_details.py): one rule per kind of
value (text, URL, time), so that every field of one kind is refused for the same reasons, in the same words.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
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


IP_EVENT_FIELDS = {"ip", "at", "event", "port"}
PORT_MAX = 65535


def ip_events(value: Any, path: str, errors: dict) -> list[dict[str, Any]]:
    """A list of {ip, at, event, port}: the reported user's (ingestion) or the platform's (enrichment)."""
    out: list[dict[str, Any]] = []
    if value is None:
        return out
    if not isinstance(value, list):
        errors[path] = "expected a list of {ip, at, event, port}"
        return out
    for i, event in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(event, dict):
            errors[where] = "expected an object {ip, at, event, port}"
            continue
        for key in event:
            if key not in IP_EVENT_FIELDS:
                errors[f"{where}.{unknown_key(key)}"] = "unknown field"
        ip = ip_address(event, "ip", errors, path=f"{where}.ip", required=True)
        at = moment(event.get("at"), f"{where}.at", errors)
        # The platform's own name for the event, kept as sent: NCMEC's enumeration is applied at send time.
        name = string(event, "event", errors, max_len=100, path=f"{where}.event")
        port = event.get("port")
        # bool is an int in Python; `true` is not a port.
        if port is not None and (type(port) is not int or not 0 <= port <= PORT_MAX):
            errors[f"{where}.port"] = f"must be an integer from 0 to {PORT_MAX}"
            port = None
        clean: dict[str, Any] = {"ip": ip}
        if at:
            clean["at"] = at.isoformat()
        if name:
            clean["event"] = name
        if port is not None:
            clean["port"] = port
        out.append(clean)
    return out


def ip_address(obj: dict, key: str, errors: dict, *, path: str, required: bool = False) -> str:
    value = string(obj, key, errors, required=required, max_len=64, path=path)
    if value:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            errors[path] = "is not an IPv4 or IPv6 address"
    return value


def unknown_key(key: Any) -> str:
    """An unknown field's name as an error path: repeated only when short and plain."""
    key = str(key)
    if len(key) <= 64 and text_problem(key) is None:
        return key
    return echo(key, 40)
