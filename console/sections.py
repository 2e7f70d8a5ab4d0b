"""Sections one area adds to another area's page, registered when the app is created.

Reporting depends on cases and queues (a report is about a case), so their views never import it; yet the
case page shows NCMEC's banner and panel, and the queues page NCMEC's count. Reporting's blueprint
registers a Section for each of those pages as the app registers the blueprint (`bp.record_once`). The
page's view calls `context_for(page, ...)` once per render and passes the result to its template, which
includes each section's templates in the slots it offers (`{% for t in slots.banner %}{% include t %}…`).
Nothing is queried from a template, and a page renders the same without any section.

A section may also name the page that asks the moderator something after a decision (a FollowUp's `ask`,
console/cases/signals.py): the cases view opens `ask_url("case", ask, case=case)` in the dialog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app

EXTENSION = "console.sections"


@dataclass(frozen=True)
class Section:
    page: str  # "case", "queues", "report" (an NCMEC report's page), "audit_log"
    # What the section's templates show, computed by the page's view (keyword arguments: the page's own).
    context: Callable[..., dict]
    slots: Mapping[str, str]  # where on the page → the template shown there
    asks: Mapping[str, Callable[..., str]] = field(default_factory=dict)  # a FollowUp's ask → its URL


def register(app: Flask, section: Section) -> None:
    app.extensions.setdefault(EXTENSION, []).append(section)


def _sections(page: str) -> list[Section]:
    return [s for s in current_app.extensions.get(EXTENSION, []) if s.page == page]


def context_for(page: str, **args) -> dict:
    """Every section's context for `page`, merged, and `slots`: where on the page → templates to include."""
    context: dict = {}
    slots: dict[str, list[str]] = {}
    for section in _sections(page):
        context.update(section.context(**args))
        for slot, template in section.slots.items():
            slots.setdefault(slot, []).append(template)
    context["slots"] = slots
    return context


def ask_url(page: str, ask: str, **args) -> str | None:
    """The URL of the page that asks the moderator `ask`, or None if no section asks it."""
    for section in _sections(page):
        if ask in section.asks:
            return section.asks[ask](**args)
    return None
