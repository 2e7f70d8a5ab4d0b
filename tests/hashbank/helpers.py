"""Pictures for the hash bank's tests, and an upstream system posting them."""

from __future__ import annotations

import io
import json
import random

from PIL import Image, ImageDraw


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture with structure (a PDQ hash of good quality): overlapping shapes in colours from the seed."""
    rnd = random.Random(seed)
    img = Image.new("RGB", size, tuple(rnd.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(14):
        x, y = rnd.randrange(0, w - 40), rnd.randrange(0, h - 40)
        box = (x, y, x + rnd.randrange(40, w // 2), y + rnd.randrange(40, h // 2))
        colour = tuple(rnd.randrange(0, 255) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


def encoded(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def reencoded(data: bytes, scale: float = 0.5, quality: int = 70) -> bytes:
    """The same picture as a platform re-serves it: resized and saved again as a JPEG."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    img = img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.LANCZOS)
    return encoded(img, "JPEG", quality=quality)


def post_case(client, token: str, content_id: str, files: list[tuple[str, bytes, str]], **fields) -> dict:
    """Post a case as an upstream system; returns the answer's JSON (asserting it was accepted)."""
    case = {
        "content_id": content_id,
        "reported_at": "2026-11-20T08:00:00Z",
        "source_kind": "user_report",
        "reported_user": {"platform_id": f"user-of-{content_id}", "name": "Sam Uploader"},
        **fields,
    }
    data = {"case": json.dumps(case), "media": [(io.BytesIO(b), n, t) for n, b, t in files]}
    response = client.post(
        "/api/v1/cases",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 201), response.json
    return response.json


def post_hashes(client, token: str, media_hashes):
    """Post a case with one small image and the detector's `media_hashes` as given; returns the answer."""
    from tests import factories

    case = {
        "content_id": "post-hashes",
        "reported_at": "2026-11-20T08:00:00Z",
        "source_kind": "user_report",
        "reported_user": {"platform_id": "u-1"},
        "media_hashes": media_hashes,
    }
    return client.post(
        "/api/v1/cases",
        data={
            "case": json.dumps(case),
            "media": [(io.BytesIO(factories.png_bytes(1)), "a.png", "image/png")],
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
