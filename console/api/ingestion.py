"""Cases posted by upstream systems: validate the request, route it to a queue, and open the case once.

Idempotent on the platform's content id. The unique index on cases.content_id is the guard, not the lookup
before the insert: two posts of one content id at once both pass the lookup, one insert wins, the other gets
an IntegrityError, rolls back and answers with the winner's case.

Opening a case is a handful of Core statements in one transaction, no ORM object loaded (`_open`): one
SELECT resolves every name the request gives and its reported user (console/api/queries.py), then the user
(only if new or changed), the case (INSERT … RETURNING id), both audit events in one INSERT, and the
queue's counters last. Files are the exception (`_store_media`): storage and the hash bank take ORM rows.

Why this module is long (about 450 lines): most of it is the field-by-field check of the request, which
refuses at entry, naming the field, anything NCMEC would refuse weeks later (its length and character
rules). It stays beside the ingestion it guards, so that a request's shape and its rules read in one place.
"""

from __future__ import annotations

import mimetypes
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from console import audit
from console.api import case_details, platform_details, queries
from console.api.fields import URL_STORED_MAX
from console.api.fields import moment as _datetime
from console.api.fields import string as _string
from console.api.fields import unknown_key as _unknown
from console.api.fields import url as _url
from console.api.queries import QueueRef
from console.cases import counters, opening, reported_users
from console.cases.models import Case
from console.extensions import db
from console.hashbank import hashing as hash_rules
from console.hashbank import matching as hashbank
from console.media import storage
from console.media.models import MediaFile
from console.ncmec import constants as ncmec
from console.queues.models import SOURCE_KINDS
from console.reporting import rules
from console.reporting.models import ReportingRule
from console.text_rules import echo, text_problem

EVENTS = audit.AuditEvent.__table__
# Executed with many rows (the driver's executemany: one round trip), compiled once; an INSERT built from the
# values themselves (VALUES (…), (…)) is compiled again for every request.
INSERT_EVENTS = insert(EVENTS).inline()  # inline: no RETURNING of the id, even for one row
MAX_MEDIA_FILES = 20
FIELDS = {
    "content_id",
    "text",
    "content_url",
    "media",
    "reported_user",
    "reported_at",
    "source_kind",
    "queue",
    "policy",
    "ai_decision",
    "media_hashes",
    "report_count",
    "media_details",
    *case_details.FIELDS,
}
# How many people reported the content (the platform's own count): part of the case's review priority.
REPORT_COUNT_MAX = 1_000_000
# NCMEC's documented limits where a field becomes part of a report (names and screen names: NAME_MAX).
USER_FIELDS = {
    "platform_id": 200,
    "name": ncmec.NAME_MAX,
    "email": 254,
    "screen_name": ncmec.NAME_MAX,
    "profile_url": URL_STORED_MAX,
}
AI_FIELDS = {"policy", "confidence", "model"}


class ValidationFailed(ValueError):
    """The request names fields the console cannot accept: field path → message, every bad field at once."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class MediaUpload:
    name: str
    stream: BinaryIO
    mime_type: str


@dataclass
class CaseRequest:
    """A validated request: every name resolved (`names`), every time aware."""

    content_id: str
    reported_at: datetime
    source_kind: str
    reported_user: dict[str, Any]
    names: queries.Names
    text: str = ""
    content_url: str = ""
    policy_slug: str = ""
    ai_policy_slug: str = ""
    queue_slug: str = ""
    ai_confidence: float | None = None
    ai_model: str = ""
    media: list[MediaUpload] = field(default_factory=list)
    # Where it happened, the chat thread, the recipient and a known victim (console/api/case_details.py).
    details: case_details.CaseDetails = field(default_factory=case_details.CaseDetails)
    # A detector's hashes of each file, by algorithm (one dict per media part, in order): matched to the bank.
    media_hashes: list[dict[str, str]] = field(default_factory=list)
    # What the platform kept about each file (console/api/platform_details.py), one dict per media part.
    media_details: list[dict[str, Any]] = field(default_factory=list)
    report_count: int = 1

    def resolve(self) -> queries.Names:
        """The request's names read again (a retry: the reported user may have been added meanwhile)."""
        return _resolve(
            self.policy_slug, self.ai_policy_slug, self.queue_slug, self.source_kind, self.reported_user
        )


@dataclass
class Ingested:
    case_id: int
    created: bool
    queue_slug: str
    rule: ReportingRule | None = None


def parse_case_request(payload: Any, media: list[MediaUpload] | None = None) -> CaseRequest:
    """Check a decoded JSON body (plus multipart files); raise ValidationFailed naming each bad field."""
    media = media or []
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": "expected a JSON object"})
    for key in payload:
        if key not in FIELDS:
            errors[_unknown(key)] = "unknown field"
    if "media" in payload:
        errors["media"] = "send files as multipart/form-data parts named 'media', not in the JSON"

    content_id = _string(payload, "content_id", errors, required=True, max_len=200)
    # Evidence as sent: the text is not trimmed.
    text = _string(payload, "text", errors, max_len=1_000_000, strip=False, multiline=True)
    content_url = _url(payload, "content_url", errors)
    reported_at = _datetime(payload.get("reported_at"), "reported_at", errors, required=True)

    source_kind = _string(payload, "source_kind", errors, required=True)
    if source_kind and source_kind not in SOURCE_KINDS:
        errors["source_kind"] = "must be one of " + ", ".join(SOURCE_KINDS)

    queue_slug = _string(payload, "queue", errors)
    policy_slug = _slug(payload.get("policy"), "policy", errors)
    reported_user = _reported_user(payload.get("reported_user"), errors)

    ai_slug, ai_confidence, ai_model = "", None, ""
    ai = payload.get("ai_decision")
    if ai is not None:
        if not isinstance(ai, dict):
            errors["ai_decision"] = "expected an object with policy, confidence and model"
        else:
            for key in ai:
                if key not in AI_FIELDS:
                    errors[f"ai_decision.{_unknown(key)}"] = "unknown field"
            if ai.get("policy") in (None, ""):
                errors["ai_decision.policy"] = "is required"
            else:
                ai_slug = _slug(ai.get("policy"), "ai_decision.policy", errors)
            confidence = ai.get("confidence")
            if confidence is not None:
                # bool is an int in Python; `true` is not a confidence.
                if isinstance(confidence, bool) or not isinstance(confidence, int | float):
                    errors["ai_decision.confidence"] = "must be a number from 0 to 1"
                elif not 0 <= confidence <= 1:
                    errors["ai_decision.confidence"] = "must be between 0 and 1"
                else:
                    ai_confidence = float(confidence)
            ai_model = _string(ai, "model", errors, max_len=200, path="ai_decision.model")

    if len(media) > MAX_MEDIA_FILES:
        errors["media"] = f"at most {MAX_MEDIA_FILES} files per case"
    for i, upload in enumerate(media):
        problem = _file_name_problem(upload.name)
        if problem:
            errors[f"media[{i}]"] = f"the file name {problem}"
    media_hashes = hash_rules.parse_detector_hashes(payload.get("media_hashes"), len(media), errors)
    media_details = platform_details.parse_media_details(payload.get("media_details"), len(media), errors)
    report_count = payload.get("report_count", 1)
    # bool is an int in Python; `true` is not a count.
    if isinstance(report_count, bool) or not isinstance(report_count, int):
        errors["report_count"] = "must be a whole number"
    elif not 1 <= report_count <= REPORT_COUNT_MAX:
        errors["report_count"] = f"must be from 1 to {REPORT_COUNT_MAX}"
    details = case_details.parse(payload, len(media), errors)
    refused = {"text", "content_url", "thread"} & errors.keys()
    if not (text.strip() or content_url or media or details.thread) and not refused:
        errors["content"] = "give at least one of text, content_url, media or thread"

    # Every name the request gives, and its reported user, in one statement.
    names = _resolve(policy_slug, ai_slug, queue_slug, source_kind, reported_user)
    if queue_slug and names.queue is None:
        errors["queue"] = f"no queue with slug {echo(queue_slug)}"
    if policy_slug and names.policy_id is None:
        errors["policy"] = f"no policy with slug {echo(policy_slug)}"
    if ai_slug and names.ai_policy_id is None:
        errors["ai_decision.policy"] = f"no policy with slug {echo(ai_slug)}"
    if errors:
        raise ValidationFailed(errors)
    return CaseRequest(
        content_id=content_id,
        reported_at=reported_at,
        source_kind=source_kind,
        reported_user=reported_user,
        names=names,
        text=text,
        content_url=content_url,
        policy_slug=policy_slug,
        ai_policy_slug=ai_slug,
        queue_slug=queue_slug,
        ai_confidence=ai_confidence,
        ai_model=ai_model,
        media=media,
        media_hashes=media_hashes,
        media_details=media_details,
        details=details,
        report_count=report_count,
    )


def _resolve(policy: str, ai_policy: str, queue: str, source_kind: str, user: dict) -> queries.Names:
    return queries.resolve(
        policy=policy,
        ai_policy=ai_policy,
        queue=queue,
        source_kind=source_kind,
        platform_id=user.get("platform_id") or "",
    )


def route(req: CaseRequest) -> tuple[QueueRef, ReportingRule | None]:
    """The queue a new case goes to, and the NCMEC rule that sent it there, if any.

    An AI decision on a policy covered by an enabled rule goes to the rule's review queue, whatever queue the
    sender named: a person must confirm there before anything is filed. Everything else follows the named
    queue, else the first queue fed by the source kind.
    """
    if req.names.ai_policy_id is not None:
        rule = rules.rule_for(req.names.ai_policy_id)
        if rule is not None:
            review = rule.review_queue
            return QueueRef(review.id, review.slug, review.name), rule
    queue = req.names.queue or req.names.first_of_kind
    if queue is None:
        raise ValidationFailed({"queue": f"no queue takes source_kind {req.source_kind!r}: name a queue"})
    return queue, None


def find_case(content_id: str):
    """The case of a content id as (id, queue slug), or None."""
    return queries.case_with_content_id(content_id)


def ingest_case(req: CaseRequest, *, actor_label: str, attempts: int = 3) -> Ingested:
    """Open the case with its media in one transaction, or return the case that already has this content id.

    Media are written to disk before the commit; on any error the transaction is rolled back and every file
    written is removed, so a failed request leaves no case row and no file behind.
    Raises ValidationFailed (routing, unreadable media) and lets other errors through after cleaning up.

    No lookup before the insert: a content id seen before is the rare case (an upstream retry), and the
    unique index refuses it anyway (the case row is inserted before any file is written); then the whole
    transaction is rolled back and the existing case is returned.
    """
    for attempt in range(1, attempts + 1):
        stored: list[MediaFile] = []
        committing = False
        try:
            result = _open(req, actor_label, stored)
            committing = True
            db.session.commit()
            storage.enqueue_previews(stored)
            hashbank.enqueue_deferred(stored)
            return result
        except IntegrityError:
            _undo(stored)
            # Another request inserted this content id (or the same new reported user) first.
            existing = find_case(req.content_id)
            if existing is not None:
                return Ingested(existing.id, created=False, queue_slug=existing.slug)
            if attempt == attempts:
                raise
            req.names = req.resolve()
            for upload in req.media:
                upload.stream.seek(0)
        except storage.MediaError as e:
            _undo(stored)
            index = len(stored)
            raise ValidationFailed({f"media[{index}]": str(e)}) from e
        except BaseException as error:
            if committing and isinstance(error, OperationalError | InterfaceError):
                # The connection died during the commit (a database restart): it may have gone through. The
                # files stay — a case without its media would be stored half; a retry with the same content
                # id finds the case if it exists. A commit that did not happen leaves unused bytes only.
                _undo(stored, keep_files=True)
            else:
                _undo(stored)
            raise
    raise AssertionError("unreachable")


def _open(req: CaseRequest, actor_label: str, stored: list[MediaFile]) -> Ingested:
    """The case's rows, with Core statements and no ORM object unless files came with it: the reported user
    (written only if new or changed), the case (INSERT … RETURNING id, its details included), then, sent
    together, the audit events (one INSERT) and the queue's counters (last: they hold the queue's row lock
    until the caller's commit)."""
    queue, rule = route(req)
    user = req.reported_user
    user_id = reported_users.save_user(
        user["platform_id"],
        req.names.user,
        {k: user.get(k) for k in reported_users.IDENTITY_FIELDS},
        user["ip_events"],
        user["details"],
    )
    values = opening.case_values(
        queue.id,
        source_kind=req.source_kind,
        reported_at=req.reported_at,
        text=req.text,
        content_url=req.content_url,
        content_id=req.content_id,
        reported_user_id=user_id,
        policy_id=req.names.policy_id,
        source_detail=actor_label,
        ai_policy_id=req.names.ai_policy_id,
        ai_confidence=req.ai_confidence,
        ai_model=req.ai_model,
        report_count=req.report_count,
    )
    if not req.details.has_attachments:
        values.update(req.details.columns([]))
    case_id = opening.insert_case(values)
    events = [
        audit.values(
            "case_opened", "case", case_id, actor_label=actor_label, case_id=case_id, queue=queue.name
        )
    ]
    if req.media:
        routed = _store_media(req, case_id, stored, events, actor_label)
        if routed is not None:
            queue, rule = QueueRef(routed.queue.id, routed.queue.slug, routed.queue.name), routed.rule
    events.append(
        audit.values(
            "case_ingested",
            "case",
            case_id,
            actor_label=actor_label,
            case_id=case_id,
            content_id=req.content_id,
            queue=queue.slug,
            media=[m.original_name for m in stored],
            ai_policy=req.ai_policy_slug or None,
            ai_confidence=req.ai_confidence,
            routed_by_rule=rule.name if rule else None,
        )
    )
    with _sent_together():
        _record(events)
        counters.opened(values["queue_id"], req.reported_at)
    return Ingested(case_id, created=True, queue_slug=queue.slug, rule=rule)


def _store_media(
    req: CaseRequest, case_id: int, stored: list[MediaFile], events: list[dict], actor_label: str
) -> hashbank.Routed | None:
    """The files: written, their rows added, matched against the hash bank (which may route the case).

    The one part of ingestion that works with ORM objects: storage and the bank's matching take them.
    """
    for upload in req.media:
        mime = upload.mime_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(upload.name)[0] or ""
        stored.append(storage.store(case_id, upload.name, upload.stream, mime))
    for media, kept in zip(stored, req.media_details, strict=False):
        if kept:
            media.details = kept
    db.session.flush()  # the files' ids: a message names its attachments by them, the bank's rows too
    case = db.session.get(Case, case_id)
    if req.details.has_attachments:
        for column, value in req.details.columns([m.id for m in stored]).items():
            setattr(case, column, value)
    # The case's opening goes before the bank's own event, if it records one.
    _record(events)
    events.clear()
    # Re-uploads of reported content go to the child-safety review queue, with the earlier CyberTip.
    return hashbank.match_new_case(case, stored, req.media_hashes, actor_label=actor_label)


@contextmanager
def _sent_together():
    """On PostgreSQL, the statements inside (none of which needs an answer before the next) are sent in one
    round trip: psycopg's pipeline mode, synced when the block ends, which raises an error among them. The
    COMMIT stays outside: committing returns the connection to the pool, where another thread could take it
    while this one still ends the pipeline. SQLite has no round trips to save."""
    db.session.flush()  # ORM rows (files, the bank's matches) wait for their ids: not in the pipeline
    driver = db.session.connection().connection.driver_connection
    pipeline = getattr(driver, "pipeline", None)
    if pipeline is None:
        yield
        return
    with pipeline():
        yield


def _record(events: list[dict]) -> None:
    """The audit events in one INSERT (audit.values gives each its content hash)."""
    if events:
        db.session.connection().execute(INSERT_EVENTS, events)


def _undo(stored: list[MediaFile], *, keep_files: bool = False) -> None:
    try:
        db.session.rollback()
    except (OperationalError, InterfaceError):
        db.session.registry.clear()  # the connection is gone, and its transaction with it
    for media in [] if keep_files else stored:
        storage.remove_files(media)


# -- the request's own fields; the checkers every field shares are in console/api/fields.py --


def _slug(value: Any, path: str, errors: dict) -> str:
    """A policy's slug as given (looked up with the request's other names, in `_resolve`)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        errors[path] = "must be a policy slug"
        return ""
    problem = text_problem(value)
    if problem or len(value) > 200:
        errors[path] = problem or "must be at most 200 characters"
        return ""
    return value


def _reported_user(value: Any, errors: dict) -> dict[str, Any]:
    if value is None:
        errors["reported_user.platform_id"] = "is required"
        return {}
    if not isinstance(value, dict):
        errors["reported_user"] = "expected an object with at least platform_id"
        return {}
    out: dict[str, Any] = {}
    for key in value:
        if key not in USER_FIELDS and key not in platform_details.USER_DETAIL_FIELDS:
            errors[f"reported_user.{_unknown(key)}"] = "unknown field"
    for key, max_len in USER_FIELDS.items():
        path = f"reported_user.{key}"
        if key == "profile_url":
            out[key] = _url(value, key, errors, path=path)
        else:
            out[key] = _string(value, key, errors, required=key == "platform_id", max_len=max_len, path=path)
    if out["email"] and "@" not in out["email"]:
        errors["reported_user.email"] = "is not an email address"
    # IP events, device ids, the person, location, other accounts: by the rules any answer of the platform's
    # about its user is checked with (console/api/platform_details.py).
    out["ip_events"], out["details"] = platform_details.parse_user_details(value, errors)
    return out


def _file_name_problem(name: str) -> str | None:
    if len(name) > ncmec.ORIGINAL_FILE_NAME_MAX:
        return f"is longer than {ncmec.ORIGINAL_FILE_NAME_MAX} characters"
    return text_problem(name)
