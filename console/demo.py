"""Demo data for the one-command run: policies, queues, three accounts, an NCMEC rule and a few dozen harmless
cases (images, tones, short videos).

Idempotent: every object has a stable key (email, slug, content id) and is created only when missing. The demo
media are generated shapes and tones — nothing real — so that the viewing and reporting flows can be tried.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from console.accounts.models import User
from console.accounts.service import create_user
from console.audit import AuditEvent
from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.media import storage
from console.ncmec import IncidentType
from console.policies.models import Policy
from console.queues.models import Queue
from console.reporting import agencies
from console.reporting.models import ReportingRule
from console.settings import service as settings
from console.timeutil import utcnow

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - printed by the runner; demo only
ACCOUNTS = [
    ("admin@example.org", "Ada Admin", "admin"),
    ("mod1@example.org", "Mo Moderator", "moderator"),
    ("mod2@example.org", "Noor Moderator", "moderator"),
]
# Who holds the child-safety permission, and their team (given once, when the account is created): Noor
# does not, so that `make run` shows both sides (console/childsafety).
CHILD_SAFETY_TEAM = {"admin@example.org": "Child safety", "mod1@example.org": "Child safety"}
OTHER_TEAMS = {"mod2@example.org": "General"}
CSAM = IncidentType.CHILD_PORNOGRAPHY
ENTICEMENT = IncidentType.ONLINE_ENTICEMENT
# (slug, name, parent slug, default NCMEC incident type: console/ncmec/constants.py spells NCMEC's values)
POLICIES = [
    ("child-safety", "Child safety", None, CSAM),
    ("csam", "CSAM", "child-safety", CSAM),
    ("grooming", "Grooming", "child-safety", ENTICEMENT),
    ("sextortion", "Sextortion", "child-safety", ENTICEMENT),
    ("child-trafficking", "Child sex trafficking", "child-safety", IncidentType.CHILD_SEX_TRAFFICKING),
    (
        "unsolicited-obscene",
        "Obscene material sent to a minor",
        "child-safety",
        IncidentType.UNSOLICITED_OBSCENE_MATERIAL,
    ),
    ("spam", "Spam", None, None),
    ("harassment", "Harassment", None, None),
    ("hate", "Hate speech", None, None),
    ("violence", "Violent extremism", None, None),
]
QUEUES = [
    ("user-reports", "User reports", "user_report"),
    ("trusted-flaggers", "Trusted flaggers", "trusted_flagger"),
    ("lea-requests", "Law-enforcement requests", "lea_request"),
    ("proactive", "Proactive detection", "proactive"),
    ("ai-child-safety", "AI review — child safety", "ai_review"),
    ("child-safety", "Child safety escalations", "user_report"),
]
# Marked child-safety when created (an admin changes the marks under Settings → Child safety): the policy
# covers its sub-policies; the queues hold only child-safety work.
CHILD_SAFETY_MARKS = {"policies": {"child-safety"}, "queues": {"ai-child-safety", "child-safety"}}
# The rule the README's flows use: Child safety (and its sub-policies) to NCMEC; AI cases confirmed in
# the AI queue. Admins pause, change or delete it under Settings → External reporting like any other rule.
RULE = {
    "name": "NCMEC — CSAM auto report",
    "policy": "child-safety",
    "review_queue": "ai-child-safety",
    "contact": ("Ada", "Admin", "admin@example.org"),
    "phone": "+1 555 0100",
    # Escalated to high priority: sextortion cases, and AI cases at 98 % or more.
    "escalation_policies": ["sextortion"],
    "escalate_min_confidence": 0.98,
    "escalation_reason": "Possible ongoing abuse or threat to a child: please review first.",
}
# The NCMEC report annotations a policy preselects (Settings → CyberTip details).
POLICY_ANNOTATIONS = {"sextortion": ["sextortion"]}
# The company's details every report carries, until an admin replaces them (Settings → CyberTip details).
COMPANY = {
    "company_template": "Example Platform, Inc. (demo)\n1 Example Way, Springfield\nlegal@platform.example",
    "terms_of_service": "Section 4: no content that sexualises minors; accounts that post it are removed.",
    "legal_url": "https://platform.example/legal/law-enforcement",
    "le_contact_first_name": "Lee",
    "le_contact_last_name": "Response Desk",
    "le_contact_email": "lers@platform.example",
    "le_contact_phone": "+1 555 0111",
}
# A grooming conversation without any file: a text-only case is reported too (its thread and a transcript).
CHAT = [
    ("user-chat-77", "kid-12", "hey, you seem mature for your age. how old r u?"),
    ("kid-12", "user-chat-77", "13"),
    ("user-chat-77", "kid-12", "(demo) let's keep talking somewhere private, don't tell your parents"),
]
TEXTS = {
    "spam": ["Buy followers now!!! cheap cheap cheap", "Win a free phone, click the link in my bio"],
    "harassment": ["You are worthless and everyone knows it", "I know where you live, watch out"],
    "hate": ["(demo) slur-laden post about a group"],
    "grooming": ["(demo) adult asks a 13-year-old to keep their chats secret and move to another app"],
    "sextortion": ["(demo) threat to share images unless the minor sends more"],
    "csam": ["(demo) upload flagged by a hash match — the images are generated shapes"],
}


def _image(seed: int) -> bytes:
    rnd = random.Random(seed)
    img = Image.new("RGB", (320, 240), tuple(rnd.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rnd.randrange(0, 280), rnd.randrange(0, 200)
        draw.ellipse(
            (x, y, x + rnd.randrange(30, 120), y + rnd.randrange(30, 120)),
            fill=tuple(rnd.randrange(0, 255) for _ in range(3)),
        )
    draw.text((10, 10), f"DEMO {seed}", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _tone(seed: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        freq = 220 + seed * 20
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / 8000))) for i in range(8000)
            )
        )
    return buf.getvalue()


def video(seed: int, frames: int = 30, size: tuple[int, int] = (160, 120), fps: int = 15) -> bytes:
    """A two-second WebM (VP8) of moving coloured shapes, encoded by PyAV's own FFmpeg."""
    import av

    rnd = random.Random(seed)
    colour = tuple(rnd.randrange(40, 220) for _ in range(3))
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        # One encoder thread: libvpx's default pool costs 30 times the encoding of so small a clip.
        stream = out.add_stream("libvpx", rate=fps, options={"threads": "1"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            img = Image.new("RGB", size, colour)
            x = i * (size[0] - 30) // max(frames - 1, 1)
            ImageDraw.Draw(img).ellipse((x, size[1] // 3, x + 30, size[1] // 3 + 30), fill=(255, 255, 255))
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def load(cases_per_queue: int = 8) -> dict:
    """Create what is missing; return the demo logins."""
    for email, name, role in ACCOUNTS:
        if not db.session.scalar(select(User).where(User.email == email)):
            user = create_user(email, name, DEMO_PASSWORD, role)
            user.child_safety_access = email in CHILD_SAFETY_TEAM
            user.team = CHILD_SAFETY_TEAM.get(email) or OTHER_TEAMS.get(email, "")
    by_slug = {p.slug: p for p in db.session.scalars(select(Policy))}
    for slug, name, parent, incident in POLICIES:
        if slug not in by_slug:
            by_slug[slug] = Policy(
                slug=slug,
                name=name,
                parent=by_slug.get(parent),
                ncmec_incident_type=incident,
                ncmec_report_annotations=POLICY_ANNOTATIONS.get(slug),
                child_safety=slug in CHILD_SAFETY_MARKS["policies"],
            )
            db.session.add(by_slug[slug])
    queues = {q.slug: q for q in db.session.scalars(select(Queue))}
    for slug, name, kind in QUEUES:
        if slug not in queues:
            queues[slug] = Queue(
                slug=slug, name=name, source_kind=kind, child_safety=slug in CHILD_SAFETY_MARKS["queues"]
            )
            db.session.add(queues[slug])
    db.session.flush()

    now = utcnow()
    rnd = random.Random(7)
    n = 0
    videos = []
    for qslug, queue in queues.items():
        for i in range(cases_per_queue):
            n += 1
            content_id = f"demo-{qslug}-{i:03d}"
            if db.session.scalar(select(Case.id).where(Case.content_id == content_id)):
                continue
            child = qslug in ("ai-child-safety", "proactive") or (i % 3 == 0)
            policy_slug = (
                rnd.choice(["csam", "grooming", "sextortion"])
                if child
                else rnd.choice(["spam", "harassment", "hate"])
            )
            user = cases.find_or_create_reported_user(
                f"user-{1000 + n}",
                name=f"Demo User {n}",
                email=f"user{n}@platform.example",
                screen_name=f"demo_user_{n}",
                ip_events=[
                    {
                        "ip": f"203.0.113.{n % 250}",
                        "at": (now - timedelta(days=2)).isoformat(),
                        "event": "Login",
                    }
                ],
            )
            ai = qslug == "ai-child-safety"
            case = cases.open_case(
                queue,
                reported_at=now - timedelta(hours=rnd.randrange(1, 240), minutes=i),
                text=rnd.choice(TEXTS.get(policy_slug, ["(demo) reported content"])),
                content_url=f"https://platform.example/p/{content_id}",
                content_id=content_id,
                reported_user=user,
                policy=None if ai else by_slug[policy_slug],
                ai_policy=by_slug[policy_slug] if ai else None,
                ai_confidence=round(rnd.uniform(0.81, 0.99), 2) if ai else None,
                ai_model="demo-classifier-v3" if ai else "",
                source_detail="demo data",
            )
            if policy_slug in ("csam", "sextortion") or i % 4 == 0:
                for j in range(2 if policy_slug == "csam" else 1):
                    storage.store(
                        case.id, f"{content_id}-{j}.png", io.BytesIO(_image(n * 10 + j)), "image/png"
                    )
            if i == 5:
                storage.store(case.id, f"{content_id}-voice.wav", io.BytesIO(_tone(n)), "audio/wav")
            if i == 2:
                videos.append(
                    storage.store(case.id, f"{content_id}-clip.webm", io.BytesIO(video(n)), "video/webm")
                )
    _chat_case(queues["user-reports"], now)
    _company_details()
    # After the cases: the audit log's first page, newest first, still shows the rule being created.
    _reporting_rule(by_slug, queues)
    db.session.commit()
    for media in videos:
        storage.make_preview(media.id)  # the poster frame a worker would make (no worker runs yet)
    return {"password": DEMO_PASSWORD, "accounts": ACCOUNTS}


def _reporting_rule(policies: dict[str, Policy], queues: dict[str, Queue]) -> None:
    """The demo's NCMEC rule, created once: a rule an admin paused, changed or deleted stays as they left it.

    "Once" is read from the store: any rule, or any rule ever created (the audit log keeps deleted ones).
    """
    ever_created = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "reporting_rule_created").limit(1)
    ) or db.session.scalar(select(ReportingRule.id).limit(1))
    if ever_created:
        return
    first, last, email = RULE["contact"]
    settings.create_rule(
        settings.RuleFields(
            name=RULE["name"],
            agency_id=agencies.ncmec().id,
            policy_ids=[policies[RULE["policy"]].id],
            review_queue_id=queues[RULE["review_queue"]].id,
            contact_first_name=first,
            contact_last_name=last,
            contact_email=email,
            contact_phone=RULE["phone"],
            escalate_min_confidence=RULE["escalate_min_confidence"],
            escalation_policy_ids=tuple(policies[slug].id for slug in RULE["escalation_policies"]),
            escalation_reason=RULE["escalation_reason"],
        ),
        actor_label="demo data",
    )


DEMO_PLATFORM = "Demo platform"
# The demo's platform actions (console/webhooks): name, event type, verdict, may a moderator untick it,
# the policies it is the default for.
DEMO_ACTIONS = [
    ("Remove content", "content.remove", "violation", True, ("child-safety", "spam")),
    ("Disable account permanently", "account.disable", "violation", False, ("child-safety",)),
    ("Restore", "content.restore", "no_violation", True, ()),
]


def connect_platform(url: str, secret: str) -> None:
    """For the one-command run: the demo platform (demo_platform/, on this machine) as the platform's
    endpoint, its host allowed (loopback, plain http), the demo's actions, and the demo rule asking it for
    enrichment and preservation. Created once: what an admin changed or deleted stays as they left it."""
    from console.webhooks import endpoints
    from console.webhooks.models import WebhookEndpoint

    ever = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "webhook_endpoint_saved").limit(1)
    ) or db.session.scalar(select(WebhookEndpoint.id).limit(1))
    if ever:
        return
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    endpoints.allow_host(host, "the demo platform (make run)")
    endpoint, _ = endpoints.save_endpoint(None, name=DEMO_PLATFORM, url=url, secret=secret)
    policies = {p.slug: p for p in db.session.scalars(select(Policy))}
    for name, event_type, verdict, skippable, slugs in DEMO_ACTIONS:
        endpoints.save_action(
            None,
            name=name,
            event_type=event_type,
            endpoint_id=endpoint.id,
            verdict=verdict,
            enabled=True,
            skippable=skippable,
            policy_ids=[policies[slug].id for slug in slugs if slug in policies],
        )
    rule = db.session.scalar(select(ReportingRule).where(ReportingRule.name == RULE["name"]))
    if rule is not None:
        rule.enrichment_endpoint_id = rule.preservation_endpoint_id = endpoint.id
        db.session.commit()


def _company_details() -> None:
    """The agency's legal details and law-enforcement contact, unless an admin set them."""
    agency = agencies.ncmec()
    if not (agency.company_template or agency.legal_url or agency.le_contact_last_name):
        for name, value in COMPANY.items():
            setattr(agency, name, value)


def _chat_case(queue: Queue, now) -> None:
    content_id = "demo-chat-thread-001"
    if db.session.scalar(select(Case.id).where(Case.content_id == content_id)):
        return
    user = cases.find_or_create_reported_user("user-chat-77", name="Chat Account", screen_name="friendly_77")
    case = cases.open_case(
        queue,
        reported_at=now - timedelta(hours=3),
        content_id=content_id,
        reported_user=user,
        policy=db.session.scalar(select(Policy).where(Policy.slug == "grooming")),
        source_detail="demo data",
    )
    case.content_kind = "chat"
    case.incident_details = {"chat_service": "Direct messages", "chat_room": "dm:user-chat-77/kid-12"}
    case.thread = [
        {
            "sender": sender,
            "recipient": recipient,
            "sent_at": (now - timedelta(hours=4, minutes=10 - i)).isoformat(),
            "text": text,
            "attachments": [],
        }
        for i, (sender, recipient, text) in enumerate(CHAT)
    ]
    case.intended_recipient = {"platform_id": "kid-12", "screen_name": "kid_12", "age": 13}
    case.victim = {"platform_id": "kid-12", "age": 13}
