"""What the platform knows about the reported user and each uploaded file, checked by NCMEC's field rules.

Two entry points, each a plain function of a decoded JSON object (no Flask request), so that every way the
platform tells the console something — the ingestion API today, an answer to the console's own question
tomorrow (an enrichment call) — is checked by the same rules and stored in the same shape:

- ``parse_user_details(obj, errors, path)``: the reported user's IP events, device ids, the person (first and
  last name, phones, emails, addresses, age, date of birth), estimated location, associated accounts, group,
  whether the user is on another company's service, whether every email is given. Returns
  ``(ip_events, details)``: the IP events (kept where they always were, on ``reported_users.ip_events``) and a
  dict of the rest (``reported_users.details``, merged by ``cases.service.record_user_details``).
- ``parse_file_details(obj, errors, path)``: one file's name at the platform, upload time, location (URL),
  whether it was public, the upload's IP event and device ids, and metadata name/value pairs (EXIF or HASH).
  Stored on ``media_files.details``.

Each bad value adds "path": "message" to ``errors``; the value returned leaves it out. NCMEC's enumerations
(address types, US states, countries, associated-account types) are read from its XSD, so a value NCMEC would
refuse is refused here, naming the field, long before a report is sent. reporting/documents.py turns the
stored dicts into the report's elements.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from console.api import fields
from console.api.fields import moment, string, unknown_key, url
from console.ncmec import AddressType, AssociatedAccountType, DetailsType, schema
from console.ncmec import constants as ncmec

PORT_MAX = 65535
IP_EVENT_FIELDS = {"ip", "at", "event", "port"}
DEVICE_FIELDS = {"type", "value", "event", "at"}
ADDRESS_FIELDS = {"type", "street", "city", "zip_code", "state", "non_usa_state", "country"}
LOCATION_FIELDS = {"city", "region", "country_code", "verified", "at"}
ACCOUNT_FIELDS = {
    "type",
    "platform",
    "third_party",
    "platform_id",
    "service",
    "screen_name",
    "name",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "profile_url",
    "group_identifier",
}
# The reported user's details beyond who they are (platform_id, name, email, screen_name, profile_url).
USER_DETAIL_FIELDS = {
    "ip_events",
    "first_name",
    "last_name",
    "phones",
    "emails",
    "addresses",
    "age",
    "date_of_birth",
    "device_ids",
    "estimated_location",
    "associated_accounts",
    "group_identifier",
    "third_party_user",
    "all_emails_reported",
}
FILE_DETAIL_FIELDS = {
    "file_name",
    "uploaded_at",
    "location",
    "publicly_available",
    "upload_ip",
    "device_ids",
    "details",
}
MAX_PHONES, MAX_EMAILS, MAX_ADDRESSES, MAX_DEVICES, MAX_ACCOUNTS, MAX_PAIRS = 10, 20, 5, 20, 20, 100
PLACE_MAX = 200  # street, city, region: the console's own bound (NCMEC documents none)


@cache
def _states() -> frozenset[str]:
    return frozenset(v for v in schema.enumeration("state") if v)


@cache
def _countries() -> frozenset[str]:
    return frozenset(v for v in schema.enumeration("country") if v)


def _object(value: Any, path: str, errors: dict, known: set[str], shape: str) -> dict | None:
    """``value`` as an object whose keys are all ``known`` (an unknown key is refused by name)."""
    if not isinstance(value, dict):
        errors[path] = f"expected an object {{{shape}}}"
        return None
    for key in value:
        if key not in known:
            errors[f"{path}.{unknown_key(key)}"] = "unknown field"
    return value


def _list(value: Any, path: str, errors: dict, max_items: int, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        errors[path] = f"expected a list of at most {max_items} {what}"
        return []
    return value


def _clean(out: dict) -> dict:
    return {k: v for k, v in out.items() if v not in ("", None, [], {})}


def parse_ip_event(value: Any, path: str, errors: dict) -> dict:
    """{ip, at, event, port}: the platform's own event name is kept as sent (NCMEC's enumeration is applied
    when a report is built, reporting/documents.py)."""
    event = _object(value, path, errors, IP_EVENT_FIELDS, "ip, at, event, port")
    if event is None:
        return {}
    ip = string(event, "ip", errors, required=True, max_len=64, path=f"{path}.ip")
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            errors[f"{path}.ip"] = "is not an IPv4 or IPv6 address"
    at = moment(event.get("at"), f"{path}.at", errors)
    name = string(event, "event", errors, max_len=100, path=f"{path}.event")
    port = event.get("port")
    # bool is an int in Python; `true` is not a port.
    if port is not None and (type(port) is not int or not 0 <= port <= PORT_MAX):
        errors[f"{path}.port"] = f"must be an integer from 0 to {PORT_MAX}"
        port = None
    return _clean({"ip": ip, "at": at.isoformat() if at else "", "event": name, "port": port})


def parse_device_id(value: Any, path: str, errors: dict) -> dict:
    """{type, value, event, at}: NCMEC's deviceId (e.g. IMEI, IDFA, Android ID) and when it was seen."""
    device = _object(value, path, errors, DEVICE_FIELDS, "type, value, event, at")
    if device is None:
        return {}
    kind = string(device, "type", errors, required=True, max_len=100, path=f"{path}.type")
    raw = string(device, "value", errors, required=True, max_len=ncmec.IDENTIFIER_MAX, path=f"{path}.value")
    name = string(device, "event", errors, max_len=100, path=f"{path}.event")
    at = moment(device.get("at"), f"{path}.at", errors)
    return _clean({"type": kind, "value": raw, "event": name, "at": at.isoformat() if at else ""})


def parse_address(value: Any, path: str, errors: dict) -> dict:
    """{type, street, city, zip_code, state (a US state code), non_usa_state, country (ISO 3166 code)}."""
    address = _object(value, path, errors, ADDRESS_FIELDS, ", ".join(sorted(ADDRESS_FIELDS)))
    if address is None:
        return {}
    out = {
        "type": fields.choice(address, "type", errors, [t.value for t in AddressType], path=f"{path}.type"),
        "street": string(address, "street", errors, max_len=PLACE_MAX, path=f"{path}.street"),
        "city": string(address, "city", errors, max_len=PLACE_MAX, path=f"{path}.city"),
        "zip_code": string(address, "zip_code", errors, max_len=20, path=f"{path}.zip_code"),
        "state": fields.choice(address, "state", errors, sorted(_states()), path=f"{path}.state"),
        "non_usa_state": string(address, "non_usa_state", errors, max_len=100, path=f"{path}.non_usa_state"),
        "country": fields.choice(address, "country", errors, sorted(_countries()), path=f"{path}.country"),
    }
    out = _clean(out)
    if not set(out) - {"type"} and not any(k.startswith(path) for k in errors):
        errors[path] = "give at least one part of the address"
    return out


def _estimated_location(value: Any, path: str, errors: dict) -> dict:
    where = _object(value, path, errors, LOCATION_FIELDS, "city, region, country_code, verified, at")
    if where is None:
        return {}
    at = moment(where.get("at"), f"{path}.at", errors)
    out = _clean(
        {
            "city": string(where, "city", errors, max_len=PLACE_MAX, path=f"{path}.city"),
            "region": string(where, "region", errors, max_len=PLACE_MAX, path=f"{path}.region"),
            "country_code": fields.choice(
                where, "country_code", errors, sorted(_countries()), path=f"{path}.country_code"
            ),
            "verified": fields.boolean(where, "verified", errors, f"{path}.verified"),
            "at": at.isoformat() if at else "",
        }
    )
    if not {"city", "region", "country_code"} & set(out) and not any(k.startswith(path) for k in errors):
        errors[path] = "give the city, region or country_code"
    return out


def _phones(obj: dict, key: str, errors: dict, path: str) -> list[str]:
    return fields.text_list(obj, key, errors, max_items=MAX_PHONES, max_len=ncmec.PHONE_MAX, path=path)


def _emails(obj: dict, key: str, errors: dict, path: str) -> list[str]:
    return fields.text_list(
        obj, key, errors, max_items=MAX_EMAILS, max_len=fields.EMAIL_MAX, path=path, item=fields.email
    )


def _associated_account(value: Any, path: str, errors: dict) -> dict:
    account = _object(value, path, errors, ACCOUNT_FIELDS, "type, platform, platform_id, screen_name, …")
    if account is None:
        return {}
    name_max = ncmec.NAME_MAX
    out = _clean(
        {
            "type": fields.choice(
                account,
                "type",
                errors,
                [t.value for t in AssociatedAccountType],
                path=f"{path}.type",
                required=True,
            ),
            "platform": string(account, "platform", errors, max_len=PLACE_MAX, path=f"{path}.platform"),
            "third_party": fields.boolean(account, "third_party", errors, f"{path}.third_party"),
            "platform_id": string(
                account, "platform_id", errors, max_len=ncmec.IDENTIFIER_MAX, path=f"{path}.platform_id"
            ),
            "service": string(
                account, "service", errors, max_len=ncmec.ESP_SERVICE_MAX, path=f"{path}.service"
            ),
            "screen_name": string(
                account, "screen_name", errors, max_len=name_max, path=f"{path}.screen_name"
            ),
            "name": string(account, "name", errors, max_len=name_max, path=f"{path}.name"),
            "first_name": string(account, "first_name", errors, max_len=name_max, path=f"{path}.first_name"),
            "last_name": string(account, "last_name", errors, max_len=name_max, path=f"{path}.last_name"),
            "emails": _emails(account, "emails", errors, f"{path}.emails"),
            "phones": _phones(account, "phones", errors, f"{path}.phones"),
            "profile_url": url(account, "profile_url", errors, path=f"{path}.profile_url"),
            "group_identifier": string(
                account,
                "group_identifier",
                errors,
                max_len=ncmec.IDENTIFIER_MAX,
                path=f"{path}.group_identifier",
            ),
        }
    )
    if not set(out) - {"type", "third_party"} and not any(k.startswith(path) for k in errors):
        errors[path] = "give at least one detail of the account besides its type"
    return out


def parse_user_details(obj: dict, errors: dict, path: str = "reported_user") -> tuple[list[dict], dict]:
    """The reported user's details in ``obj`` (its other keys are the caller's to check).

    Returns (ip_events, details): only what ``obj`` gave, each value checked.
    """
    name_max = ncmec.NAME_MAX
    events = [
        parse_ip_event(e, f"{path}.ip_events[{i}]", errors)
        for i, e in enumerate(_list(obj.get("ip_events"), f"{path}.ip_events", errors, 100, "IP events"))
    ]
    devices = [
        parse_device_id(d, f"{path}.device_ids[{i}]", errors)
        for i, d in enumerate(_list(obj.get("device_ids"), f"{path}.device_ids", errors, MAX_DEVICES, "ids"))
    ]
    addresses = [
        parse_address(a, f"{path}.addresses[{i}]", errors)
        for i, a in enumerate(
            _list(obj.get("addresses"), f"{path}.addresses", errors, MAX_ADDRESSES, "addresses")
        )
    ]
    accounts = [
        _associated_account(a, f"{path}.associated_accounts[{i}]", errors)
        for i, a in enumerate(
            _list(
                obj.get("associated_accounts"),
                f"{path}.associated_accounts",
                errors,
                MAX_ACCOUNTS,
                "accounts",
            )
        )
    ]
    location = obj.get("estimated_location")
    details = _clean(
        {
            "first_name": string(obj, "first_name", errors, max_len=name_max, path=f"{path}.first_name"),
            "last_name": string(obj, "last_name", errors, max_len=name_max, path=f"{path}.last_name"),
            "phones": _phones(obj, "phones", errors, f"{path}.phones"),
            "emails": _emails(obj, "emails", errors, f"{path}.emails"),
            "addresses": [a for a in addresses if a],
            "age": fields.age(obj, "age", errors, f"{path}.age"),
            "date_of_birth": fields.birth_date(obj, "date_of_birth", errors, f"{path}.date_of_birth"),
            "device_ids": [d for d in devices if d],
            "estimated_location": _estimated_location(location, f"{path}.estimated_location", errors)
            if location is not None
            else {},
            "associated_accounts": [a for a in accounts if a],
            "group_identifier": string(
                obj, "group_identifier", errors, max_len=ncmec.IDENTIFIER_MAX, path=f"{path}.group_identifier"
            ),
            "third_party_user": fields.boolean(obj, "third_party_user", errors, f"{path}.third_party_user"),
            "all_emails_reported": fields.boolean(
                obj, "all_emails_reported", errors, f"{path}.all_emails_reported"
            ),
        }
    )
    return [e for e in events if e], details


def _pairs(value: Any, path: str, errors: dict) -> list[dict]:
    out = []
    for i, pair in enumerate(_list(value, path, errors, MAX_PAIRS, "name/value pairs")):
        where = f"{path}[{i}]"
        pair = _object(pair, where, errors, {"type", "name", "value"}, "type, name, value")
        if pair is None:
            continue
        kind = fields.choice(pair, "type", errors, [t.value for t in DetailsType], path=f"{where}.type")
        name = string(pair, "name", errors, required=True, max_len=200, path=f"{where}.name")
        # A value is evidence as the platform kept it: not trimmed, one line.
        text = string(pair, "value", errors, required=True, max_len=2000, path=f"{where}.value", strip=False)
        if name and text:
            out.append({"type": kind or DetailsType.EXIF.value, "name": name, "value": text})
    return out


def parse_file_details(obj: Any, errors: dict, path: str) -> dict:
    """One file's details as the platform kept them; {} for none (``obj`` None)."""
    if obj is None:
        return {}
    given = _object(obj, path, errors, FILE_DETAIL_FIELDS, ", ".join(sorted(FILE_DETAIL_FIELDS)))
    if given is None:
        return {}
    uploaded = moment(given.get("uploaded_at"), f"{path}.uploaded_at", errors)
    devices = [
        parse_device_id(d, f"{path}.device_ids[{i}]", errors)
        for i, d in enumerate(
            _list(given.get("device_ids"), f"{path}.device_ids", errors, MAX_DEVICES, "device ids")
        )
    ]
    upload_ip = given.get("upload_ip")
    return _clean(
        {
            "file_name": string(
                given, "file_name", errors, max_len=ncmec.ORIGINAL_FILE_NAME_MAX, path=f"{path}.file_name"
            ),
            "uploaded_at": uploaded.isoformat() if uploaded else "",
            "location": url(given, "location", errors, path=f"{path}.location"),
            "publicly_available": fields.boolean(
                given, "publicly_available", errors, f"{path}.publicly_available"
            ),
            "upload_ip": parse_ip_event(upload_ip, f"{path}.upload_ip", errors)
            if upload_ip is not None
            else {},
            "device_ids": [d for d in devices if d],
            "details": _pairs(given.get("details"), f"{path}.details", errors),
        }
    )


def parse_media_details(value: Any, media_count: int, errors: dict) -> list[dict]:
    """The API's ``media_details``: one object (or null) per ``media`` part, in order."""
    out: list[dict] = [{} for _ in range(media_count)]
    if value is None:
        return out
    if not isinstance(value, list):
        errors["media_details"] = "expected a list with one object per media part"
        return out
    if len(value) > media_count:
        errors["media_details"] = (
            f"{len(value)} entries for {media_count} media part(s): one per part, in order"
        )
        return out
    for i, item in enumerate(value):
        out[i] = parse_file_details(item, errors, f"media_details[{i}]")
    return out
