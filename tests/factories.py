"""Small factories: each builds one thing the way the console itself would, and commits it."""

from __future__ import annotations

import io
from datetime import timedelta
from itertools import count

from PIL import Image

from console.accounts.service import create_user
from console.cases import service as cases
from console.extensions import db
from console.media import storage
from console.ncmec import IncidentType
from console.policies.models import Policy
from console.queues.models import Queue
from console.timeutil import utcnow

PASSWORD = "pw-correct-horse-1"
# The incident type of the CSAM policies, and of most reports in the tests.
CSAM = IncidentType.CHILD_PORNOGRAPHY.value
_seq = count(1)


def user(
    role: str = "moderator",
    email: str | None = None,
    name: str | None = None,
    *,
    child_safety: bool = True,
    team: str = "",
):
    """A person of the child-safety team unless a test says otherwise (`child_safety=False`): most tests are
    about the NCMEC flows, which only that team reaches."""
    n = next(_seq)
    u = create_user(email or f"{role}{n}@example.org", name or f"{role.title()} {n}", PASSWORD, role)
    u.child_safety_access, u.team = child_safety, team
    db.session.commit()
    return u


def policy_tree() -> dict[str, Policy]:
    """Child safety → CSAM, Grooming, Sextortion; plus Spam and Harassment."""
    child = Policy(slug="child-safety", name="Child safety", ncmec_incident_type=CSAM)
    out = {
        "child-safety": child,
        "csam": Policy(slug="csam", name="CSAM", parent=child, ncmec_incident_type=CSAM),
        "grooming": Policy(
            slug="grooming",
            name="Grooming",
            parent=child,
            ncmec_incident_type="Online Enticement of Children for Sexual Acts",
        ),
        "sextortion": Policy(slug="sextortion", name="Sextortion", parent=child),
        "spam": Policy(slug="spam", name="Spam"),
        "harassment": Policy(slug="harassment", name="Harassment"),
    }
    db.session.add_all(out.values())
    db.session.commit()
    return out


def queue(name: str = "User reports", source_kind: str = "user_report") -> Queue:
    n = next(_seq)
    q = Queue(name=f"{name} {n}", slug=f"q-{n}", source_kind=source_kind)
    db.session.add(q)
    db.session.commit()
    return q


def webm_bytes(seed: int = 1, frames: int = 30) -> bytes:
    """A real little WebM (VP8) video, encoded by PyAV's own FFmpeg (the demo's generator)."""
    from console import demo

    return demo.video(seed, frames, size=(64, 48))


def png_bytes(seed: int = 1, size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, ((seed * 40) % 255, (seed * 90) % 255, (seed * 160) % 255))
    # The seed itself in the first pixels, so that different seeds never make identical files.
    for i, byte in enumerate(seed.to_bytes(8, "big")):
        img.putpixel((i, 0), (byte, 255 - byte, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def case(
    q: Queue,
    *,
    text: str = "reported text",
    hours_ago: float = 1,
    policy: Policy | None = None,
    images: int = 0,
    content_url: str = "",
    content_id: str | None = None,
    ai_policy: Policy | None = None,
    reported_user: dict | None = None,
):
    n = next(_seq)
    ru = cases.find_or_create_reported_user(
        **(
            reported_user
            or {"platform_id": f"u-{n}", "name": f"Reported {n}", "email": f"r{n}@platform.example"}
        )
    )
    c = cases.open_case(
        q,
        reported_at=utcnow() - timedelta(hours=hours_ago),
        text=text,
        content_url=content_url,
        content_id=content_id,
        reported_user=ru,
        policy=policy,
        ai_policy=ai_policy,
        ai_confidence=0.97 if ai_policy else None,
        ai_model="test-model" if ai_policy else "",
    )
    for i in range(images):
        storage.store(c.id, f"file-{n}-{i}.png", io.BytesIO(png_bytes(n * 10 + i)), "image/png")
    db.session.commit()
    return c
