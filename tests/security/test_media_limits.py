"""Uploaded media cannot exhaust the web process's memory, and video/audio must really be what they claim."""

from __future__ import annotations

import io
import json
import resource
import stat
import time
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

import jobs
from console import tasks
from console.api import tokens
from console.cases.models import Case
from console.extensions import db
from console.media.models import MediaFile
from tests import factories
from tests.security.media import FAKE_MP4, FAKE_WAV, mp4_video, png_declaring, wav_tone


@pytest.fixture
def upload(ctx, client):
    """`upload(files)` posts a case with these (name, bytes, type) files as the upstream system."""
    factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("scanner")
    sequence = iter(range(1, 1000))

    def post(files):
        case = {
            "content_id": f"upload-{next(sequence)}",
            "reported_at": "2024-05-01T11:02:09Z",
            "source_kind": "user_report",
            "reported_user": {"platform_id": "acct-1"},
        }
        data = {
            "case": json.dumps(case),
            "media": [(io.BytesIO(content), name, mime) for name, content, mime in files],
        }
        return client.post(
            "/api/v1/cases",
            data=data,
            headers={"Authorization": f"Bearer {raw}"},
            content_type="multipart/form-data",
        )

    return post


def files_on_disk(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_small_png_declaring_13000_by_13000_pixels_is_refused_without_decoding(app, upload):
    """The reported bomb: 169 Mpx in a few hundred KiB was accepted and cost ~768 MiB to preview."""
    bomb = png_declaring(13000, 13000)
    assert len(bomb) < 600 * 1024
    # CPU time, not the clock: on a busy machine the request may wait for a core, not for pixels.
    before, started = peak_rss_mib(), time.process_time()

    response = upload([("bomb.png", bomb, "image/png")])

    assert response.status_code == 422
    assert "13000×13000 pixels" in response.json["errors"]["media[0]"]
    assert time.process_time() - started < 5
    assert peak_rss_mib() - before < 100  # the pixels were never decoded
    db.session.rollback()
    assert db.session.scalar(select(func.count(Case.id))) == 0 and files_on_disk(app) == []


def test_the_pixel_limit_is_a_setting(app, upload):
    app.config["MEDIA_MAX_PIXELS"] = 1000
    assert upload([("big.png", factories.png_bytes(1, (40, 30)), "image/png")]).status_code == 422
    assert upload([("ok.png", factories.png_bytes(2, (20, 20)), "image/png")]).status_code == 201


def test_a_large_image_gets_its_preview_from_a_worker_not_the_request(app, upload):
    app.config["MEDIA_INLINE_PREVIEW_PIXELS"] = 1000
    tasks.task_queue().empty()

    response = upload([("large.png", factories.png_bytes(3, (64, 48)), "image/png")])

    assert response.status_code == 201
    media = db.session.scalar(select(MediaFile))
    assert media.has_preview is False
    queued = {job.func_name: job for job in tasks.task_queue().get_jobs()}
    # Decoded by workers, off the request: the preview, and the PDQ the hash bank matches (console/hashbank).
    assert set(queued) == {"jobs.media.make_preview", "jobs.hashbank.match_media"}
    assert queued["jobs.media.make_preview"].args == (media.id,)

    db.session.rollback()  # SQLite: a reader's open transaction would hold the worker's write back
    jobs.use_app(app)
    SimpleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
    db.session.expire_all()
    assert db.session.get(MediaFile, media.id).has_preview is True


def test_media_files_and_folders_are_private(app, upload):
    assert upload([("a.png", factories.png_bytes(4), "image/png")]).status_code == 201
    paths = files_on_disk(app)
    assert len(paths) == 2  # the file and its preview
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
    assert stat.S_IMODE(Path(app.config["MEDIA_ROOT"]).stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "name, content, mime, accepted",
    [
        ("clip.mp4", mp4_video(), "video/mp4", True),
        ("voice.wav", wav_tone(), "audio/wav", True),
        ("fake.mp4", FAKE_MP4, "video/mp4", False),  # magic bytes alone used to pass
        ("fake.wav", FAKE_WAV, "audio/wav", False),
        ("clip.webm", mp4_video(), "video/webm", False),  # parsed as what it claims to be
        ("silent.m4a", mp4_video(), "audio/mp4", False),  # no audio stream
    ],
)
def test_video_and_audio_containers_are_parsed(app, upload, name, content, mime, accepted):
    response = upload([(name, content, mime)])
    if accepted:
        assert response.status_code == 201, response.json
        assert db.session.scalar(select(MediaFile.kind)) == mime.split("/")[0]
    else:
        assert response.status_code == 422
        assert response.json["errors"]["media[0]"].startswith(name)
        assert files_on_disk(app) == []
