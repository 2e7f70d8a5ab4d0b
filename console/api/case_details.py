"""What a posted case tells NCMEC beyond its content: where it happened, the chat thread, who received it.

- ``content_kind`` (web_page, chat, email, online_game, p2p, phone, non_internet) and ``content_type`` (the
  platform's own name, which an admin may map to a kind) decide the report's internetDetails element;
  ``internet_details`` holds that kind's fields (console/cases/kinds.py).
- ``thread``: the messages of a chat or direct-message conversation, each with its sender, recipient, time,
  text and ``attachments`` — indexes of the request's ``media`` parts, so a file is sent once and named by
  every message that carried it.
- ``intended_recipient`` and ``victim``: the account the content was sent to, and a known minor (age or date
  of birth when known).
- ``law_enforcement``: for a law-enforcement request, the agency, its case number and the officer (NCMEC's
  lawEnforcement); ``incident_time_description``: how the incident time was established.

Each is refused at entry, naming the field, for anything NCMEC would refuse later (its lengths and
characters); console/api/fields.py holds the rules every field of a kind shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.api import fields
from console.api.fields import moment, string, unknown_key, url
from console.cases import kinds
from console.ncmec import constants as ncmec

FIELDS = {
    "content_kind",
    "content_type",
    "internet_details",
    "thread",
    "intended_recipient",
    "victim",
    "law_enforcement",
    "incident_time_description",
}
LAW_ENFORCEMENT_FIELDS = {"agency_name", "case_number", "officer", "reported_to_le", "served_legal_process"}
OFFICER_FIELDS = {"first_name": ncmec.NAME_MAX, "last_name": ncmec.NAME_MAX, "phone": ncmec.PHONE_MAX}
MAX_MESSAGES = 1000
MESSAGE_TEXT_MAX = 100_000
THREAD_TEXT_MAX = 1_000_000  # the whole thread, like a case's text
MAX_EMAIL_ADDRESSES = 20
MESSAGE_FIELDS = {"sender", "recipient", "sent_at", "text", "attachments"}
# The account fields of the intended recipient and the victim (console/reporting/documents.py sends them).
ACCOUNT_FIELDS = {
    "platform_id": 200,
    "name": ncmec.NAME_MAX,
    "screen_name": ncmec.NAME_MAX,
    "email": 254,
}
VICTIM_FIELDS = {"first_name": ncmec.NAME_MAX, "last_name": ncmec.NAME_MAX, "school_name": 200}
# Lengths of the kinds' own fields: a phone number as NCMEC allows it, free text as a description.
_FIELD_MAX = {"phone_number": ncmec.PHONE_MAX, "additional_info": ncmec.DESCRIPTION_MAX}
_MULTILINE = {"additional_info", "file_names"}


@dataclass
class CaseDetails:
    content_kind: str | None = None
    content_type: str = ""
    internet_details: dict[str, Any] = field(default_factory=dict)
    # Messages with attachments as indexes of the request's media parts (columns() makes them media ids).
    thread: list[dict[str, Any]] = field(default_factory=list)
    intended_recipient: dict[str, Any] = field(default_factory=dict)
    victim: dict[str, Any] = field(default_factory=dict)
    law_enforcement: dict[str, Any] = field(default_factory=dict)
    incident_time_description: str = ""

    def columns(self, media_ids: list[int]) -> dict[str, Any]:
        """The case's columns for the details the request gave, each attachment index turned into its stored
        file's id (``media_ids``, in the request's order).

        Only the details given: a column set to the empty value it holds by default would cost an UPDATE of
        a row for nothing (or bind a value the INSERT need not carry).
        """
        given = {
            "content_kind": self.content_kind,
            "platform_content_type": self.content_type,
            "incident_details": self.internet_details,
            "intended_recipient": self.intended_recipient,
            "victim": self.victim,
            "law_enforcement": self.law_enforcement,
            "incident_time_description": self.incident_time_description,
        }
        out = {column: value for column, value in given.items() if value}
        if self.thread:
            out["thread"] = [
                {**msg, "attachments": [media_ids[i] for i in msg["attachments"]]} for msg in self.thread
            ]
        return out

    @property
    def has_attachments(self) -> bool:
        """Some message names a file: its id is known only once the file is stored."""
        return any(msg["attachments"] for msg in self.thread)


def parse(payload: dict, media_count: int, errors: dict[str, str]) -> CaseDetails:
    """The details of a decoded JSON body; every bad field is added to ``errors``."""
    out = CaseDetails()
    kind = string(payload, "content_kind", errors, max_len=20)
    if kind and kind not in kinds.CONTENT_KINDS:
        errors["content_kind"] = "must be one of " + ", ".join(kinds.CONTENT_KINDS)
        kind = ""
    out.content_kind = kind or None
    out.content_type = string(payload, "content_type", errors, max_len=100).lower()
    out.internet_details = _internet_details(
        payload.get("internet_details"), kind or kinds.mapped_kind(out.content_type), errors
    )
    out.thread = _thread(payload.get("thread"), media_count, errors)
    out.intended_recipient = _account(payload.get("intended_recipient"), "intended_recipient", errors, {})
    out.victim = _account(payload.get("victim"), "victim", errors, VICTIM_FIELDS)
    out.law_enforcement = parse_law_enforcement(payload.get("law_enforcement"), errors)
    out.incident_time_description = string(
        payload,
        "incident_time_description",
        errors,
        max_len=ncmec.DESCRIPTION_MAX,
        multiline=True,
    )
    return out


def parse_law_enforcement(value: Any, errors: dict, path: str = "law_enforcement") -> dict[str, Any]:
    """{agency_name (required), case_number, officer {first_name, last_name, email, phone}, reported_to_le,
    served_legal_process}: the agency that asked, or that the platform told, as NCMEC's lawEnforcement."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[path] = "expected an object {agency_name, case_number, officer, …}"
        return {}
    for key in value:
        if key not in LAW_ENFORCEMENT_FIELDS:
            errors[f"{path}.{unknown_key(key)}"] = "unknown field"
    out: dict[str, Any] = {
        "agency_name": string(
            value,
            "agency_name",
            errors,
            required=True,
            max_len=ncmec.IDENTIFIER_MAX,
            path=f"{path}.agency_name",
        ),
        "case_number": string(
            value, "case_number", errors, max_len=ncmec.IDENTIFIER_MAX, path=f"{path}.case_number"
        ),
        "reported_to_le": fields.boolean(value, "reported_to_le", errors, f"{path}.reported_to_le"),
        "served_legal_process": fields.boolean(
            value, "served_legal_process", errors, f"{path}.served_legal_process"
        ),
    }
    officer = value.get("officer")
    if officer is not None:
        where = f"{path}.officer"
        if not isinstance(officer, dict):
            errors[where] = "expected an object {first_name, last_name, email, phone}"
        else:
            for key in officer:
                if key not in {*OFFICER_FIELDS, "email"}:
                    errors[f"{where}.{unknown_key(key)}"] = "unknown field"
            person = {
                k: string(officer, k, errors, max_len=n, path=f"{where}.{k}")
                for k, n in OFFICER_FIELDS.items()
            }
            person["email"] = fields.email(officer, "email", errors, f"{where}.email")
            out["officer"] = {k: v for k, v in person.items() if v}
    return {k: v for k, v in out.items() if v not in ("", None, {})}


def _internet_details(value: Any, kind: str | None, errors: dict) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors["internet_details"] = "expected an object with the fields of the content kind"
        return {}
    # Without a kind yet (an unmapped content type), any kind's field is kept: a mapping added later decides.
    allowed = (
        kinds.fields_of(kind) if kind else {k: v for f in kinds.KIND_FIELDS.values() for k, v in f.items()}
    )
    allowed = {**allowed, **kinds.COMMON_FIELDS}
    out: dict[str, Any] = {}
    for key in value:
        if key not in allowed:
            where = f"content kind {kind}" if kind else "any content kind"
            errors[f"internet_details.{unknown_key(key)}"] = f"is not a field of {where}"
    for key, (_label, shape) in allowed.items():
        path = f"internet_details.{key}"
        if key not in value:
            continue
        if shape == "list":
            out[key] = _emails(value[key], path, errors)
            continue
        max_len = _FIELD_MAX.get(key, 200)
        text = string(value, key, errors, max_len=max_len, path=path, multiline=key in _MULTILINE)
        if text:
            out[key] = text
    return {k: v for k, v in out.items() if v}


def _emails(value: Any, path: str, errors: dict) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_EMAIL_ADDRESSES:
        errors[path] = f"expected a list of at most {MAX_EMAIL_ADDRESSES} email addresses"
        return []
    out = []
    for i, item in enumerate(value):
        address = string({"v": item}, "v", errors, max_len=254, path=f"{path}[{i}]")
        if address and "@" not in address:
            errors[f"{path}[{i}]"] = "is not an email address"
        elif address:
            out.append(address)
    return out


def _thread(value: Any, media_count: int, errors: dict) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        errors["thread"] = "expected a list of messages {sender, recipient, sent_at, text, attachments}"
        return []
    if len(value) > MAX_MESSAGES:
        errors["thread"] = f"at most {MAX_MESSAGES} messages"
        return []
    out, total = [], 0
    for i, msg in enumerate(value):
        path = f"thread[{i}]"
        if not isinstance(msg, dict):
            errors[path] = "expected an object {sender, recipient, sent_at, text, attachments}"
            continue
        for key in msg:
            if key not in MESSAGE_FIELDS:
                errors[f"{path}.{unknown_key(key)}"] = "unknown field"
        sender = string(msg, "sender", errors, required=True, max_len=200, path=f"{path}.sender")
        recipient = string(msg, "recipient", errors, max_len=200, path=f"{path}.recipient")
        sent_at = moment(msg.get("sent_at"), f"{path}.sent_at", errors, required=True)
        # Evidence as sent: a message's text is not trimmed.
        text = string(
            msg, "text", errors, max_len=MESSAGE_TEXT_MAX, path=f"{path}.text", strip=False, multiline=True
        )
        total += len(text)
        attachments = _attachments(msg.get("attachments"), media_count, f"{path}.attachments", errors)
        if not text.strip() and not attachments and f"{path}.text" not in errors:
            errors[f"{path}.text"] = "give the message's text or its attachments"
        out.append(
            {
                "sender": sender,
                "recipient": recipient,
                "sent_at": sent_at.isoformat() if sent_at else "",
                "text": text,
                "attachments": attachments,
            }
        )
    if total > THREAD_TEXT_MAX:
        errors["thread"] = f"the messages' text must be at most {THREAD_TEXT_MAX} characters in all"
    return out


def _attachments(value: Any, media_count: int, path: str, errors: dict) -> list[int]:
    if value is None:
        return []
    # bool is an int in Python; `true` is not an index.
    if not isinstance(value, list) or any(type(i) is not int for i in value):
        errors[path] = "expected a list of media part indexes (0 is the first 'media' part)"
        return []
    wrong = [i for i in value if not 0 <= i < media_count]
    if wrong:
        errors[path] = f"no media part {wrong[0]}: the request has {media_count}"
        return []
    return list(dict.fromkeys(value))


def _account(value: Any, path: str, errors: dict, extra: dict[str, int]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[path] = (
            "expected an object (platform_id, name, screen_name, email, profile_url, age, date_of_birth)"
        )
        return {}
    known = {**ACCOUNT_FIELDS, **extra}
    for key in value:
        if key not in known and key not in ("profile_url", "age", "date_of_birth"):
            errors[f"{path}.{unknown_key(key)}"] = "unknown field"
    out: dict[str, Any] = {}
    for key, max_len in known.items():
        out[key] = string(value, key, errors, max_len=max_len, path=f"{path}.{key}")
    if out.get("email") and "@" not in out["email"]:
        errors[f"{path}.email"] = "is not an email address"
    out["profile_url"] = url(value, "profile_url", errors, path=f"{path}.profile_url")
    out["age"] = fields.age(value, "age", errors, path=f"{path}.age")
    out["date_of_birth"] = fields.birth_date(value, "date_of_birth", errors, path=f"{path}.date_of_birth")
    out = {k: v for k, v in out.items() if v not in ("", None)}
    if not out:
        errors[path] = "give at least one of its fields"
    return out
