"""Video: a poster frame made off the request path at ingestion, the stream only after a recorded reveal."""

from __future__ import annotations

import io
import re

from PIL import Image
from rq import SimpleWorker

import jobs
from console import tasks
from console.cases import service as cases
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile
from console.reporting import filing
from tests import factories
from tests.childsafety.helpers import child_safety_world
from tests.settings.helpers import make_rule


def video_case(app, queue, **kw):
    """A case with a real WebM video, stored as ingestion stores it; the worker makes the poster."""
    c = factories.case(queue, **kw)
    media = storage.store(c.id, "clip.webm", io.BytesIO(factories.webm_bytes(3)), "video/webm")
    db.session.commit()
    tasks.task_queue().empty()
    storage.enqueue_previews([media])
    [job] = tasks.task_queue().get_jobs()
    assert job.func_name == "jobs.media.make_preview" and job.args == (media.id,)
    assert media.has_preview is False  # not made in the request
    db.session.rollback()  # SQLite: a reader's open transaction would hold the worker's write back
    jobs.use_app(app)
    SimpleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
    db.session.expire_all()
    return c, db.session.get(MediaFile, media.id)


def test_a_video_gets_a_small_grayscale_poster_from_a_worker(app, ctx):
    c, media = video_case(app, factories.queue())
    assert media.kind == "video" and media.has_preview
    with Image.open(storage.preview_path_for(media)) as poster:
        assert poster.mode == "L" and max(poster.size) == storage.PREVIEW_SIZE
        assert poster.size == (24, 18)  # the video's 4:3


def test_the_video_plays_only_after_a_recorded_reveal_muted_and_paused(app, ctx, client, auth):
    w = child_safety_world()
    mod = factories.user(email="m@example.org")
    c, media = video_case(app, w.ordinary, policy=w.policies["csam"])
    auth.login("m@example.org")
    page = client.get(f"/cases/{c.id}").text
    preview = f"/cases/{c.id}/media/{media.id}/preview"
    assert f'src="{preview}"' in page and "<video" not in page
    assert client.get(f"/cases/{c.id}/media/{media.id}/file").status_code == 403
    assert client.get(preview).headers["Cache-Control"] == "no-store"

    tile = auth.post(f"/cases/{c.id}/media/{media.id}/reveal", htmx=True, token_from=f"/cases/{c.id}").text
    assert f'poster="{preview}"' in tile and " muted" in tile and "autoplay" not in tile
    src = re.search(r'src="([^"]+/file[^"]*)"', tile).group(1)
    served = client.get(src, headers={"Range": "bytes=0-99"})
    assert served.status_code == 206 and served.headers["Cache-Control"] == "no-store"
    assert served.mimetype == "video/webm"
    assert [(v.user_id, v.child_safety) for v in media.views] == [(mod.id, True)]


def test_file_viewed_by_esp_is_true_only_for_the_video_a_person_revealed(app, ctx):
    w = child_safety_world()
    mod = factories.user()
    c, watched = video_case(app, w.team_queue, policy=w.policies["csam"])
    unwatched = storage.store(c.id, "other.webm", io.BytesIO(factories.webm_bytes(5)), "video/webm")
    db.session.commit()
    cases.reveal(watched.id, c.id, mod)
    report, _ = filing.create_report(
        c, make_rule(w.policies, w.team_queue), factories.CSAM, triggered_by="human"
    )
    db.session.commit()
    assert {f.media_id: f.viewed_by_esp for f in report.files} == {watched.id: True, unwatched.id: False}
