"""What kind of place a case's content comes from (a web page, a chat, an email …) and that kind's fields.

NCMEC's report says where an incident happened with one ``internetDetails`` element per kind of place; the
kind decides which element a report carries and which fields it can have (reporting/documents.py maps them).
A sender may name the kind; else an admin's mapping of the platform's own content type decides (Settings →
CyberTip details), else the content itself: a thread is a chat, a URL a web page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from console.cases.models import Case, ContentTypeKind
from console.extensions import db

WEB_PAGE = "web_page"
CHAT = "chat"

CONTENT_KINDS = {
    WEB_PAGE: "Web page or post",
    CHAT: "Chat or direct message",
    "email": "Email",
    "online_game": "Online game",
    "p2p": "Peer-to-peer",
    "phone": "Phone (call or text message)",
    "non_internet": "Not on the internet",
}

# Each kind's fields beyond the content itself: name → (label, kind of value). "list" is a list of strings.
KIND_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    WEB_PAGE: {},
    CHAT: {"chat_service": ("Chat service", "text"), "chat_room": ("Chat room", "text")},
    "email": {"email_addresses": ("Email addresses", "list")},
    "online_game": {"game_name": ("Game", "text"), "console": ("Console", "text")},
    "p2p": {"client": ("Peer-to-peer client", "text"), "file_names": ("File names", "text")},
    "phone": {"phone_number": ("Phone number", "text")},
    "non_internet": {"location_name": ("Location", "text")},
}
# Every kind also takes free additional information.
COMMON_FIELDS = {"additional_info": ("Additional information", "text")}


def fields_of(kind: str) -> dict[str, tuple[str, str]]:
    return {**KIND_FIELDS.get(kind, {}), **COMMON_FIELDS}


def mapped_kind(platform_type: str) -> str | None:
    """The kind an admin mapped the platform's content type to (case-insensitive), if any."""
    if not platform_type:
        return None
    return db.session.scalar(
        select(ContentTypeKind.kind).where(ContentTypeKind.platform_type == platform_type.strip().lower())
    )


def kind_for(case: Case) -> str | None:
    """The case's content kind: named by the sender, else mapped by an admin, else read from the content."""
    if case.content_kind:
        return case.content_kind
    mapped = mapped_kind(case.platform_content_type or "")
    if mapped:
        return mapped
    if case.thread:
        return CHAT
    if case.content_url:
        return WEB_PAGE
    return None


def label(kind: str | None) -> str:
    return CONTENT_KINDS.get(kind or "", "Not stated")


@dataclass(frozen=True)
class Where:
    """Where the case's content was, as the case page shows it."""

    kind: str | None
    label: str
    fields: list[tuple[str, str]]


def where(case: Case) -> Where:
    kind = kind_for(case)
    given = case.incident_details or {}
    shown = [
        (name_label, ", ".join(value) if isinstance(value, list) else str(value))
        for key, (name_label, _shape) in fields_of(kind or "").items()
        if (value := given.get(key))
    ]
    return Where(kind, label(kind), shown)
