"""The demo platform's web app: the webhook receiver, its page, and fault injection."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, Response, jsonify, redirect, render_template_string, request, url_for
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from .store import FAULTS, PlatformStore

EXTENSION_KEY = "demo_platform"
TIMEOUT_SECONDS = 15  # longer than the console waits (10 s by default): "timeout" means no answer in time
SLOW_SECONDS = 3

_PAGE = (Path(__file__).parent / "page.html").read_text(encoding="utf-8")
LABELS = {
    "500": "answer 500 (retried)",
    "timeout": f"answer after {TIMEOUT_SECONDS} s (the console times out and retries)",
    "410": "answer 410 Gone (the console disables the endpoint)",
    "slow": f"answer after {SLOW_SECONDS} s",
}


def _enrichment(data: dict) -> dict:
    """What the demo platform "knows" about a user and the files: derived from the ids, always the same."""
    platform_id = (data.get("account") or {}).get("platform_id") or "unknown"
    n = int(hashlib.sha256(platform_id.encode()).hexdigest()[:6], 16)
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    return {
        "account": {
            "emails": [f"{platform_id}.recovery@platform.example"],
            "phones": [f"+1 555 01{n % 100:02d}"],
            "created_at": (day - timedelta(days=200 + n % 300)).isoformat(),
            "ip_events": [{"ip": f"198.51.100.{n % 250 + 1}", "at": day.isoformat(), "event": "Login"}],
            "device_ids": [
                {"type": "Android advertising id", "value": f"demo-device-{n:06x}", "at": day.isoformat()}
            ],
            "associated_accounts": [
                {"type": "Linked", "platform": "Demo Messenger", "platform_id": f"dm-{n % 9999}"}
            ],
            "all_emails_reported": True,
            "estimated_location": {
                "city": "Springfield",
                "region": "Demo State",
                "country_code": "US",
                "verified": False,
            },
        },
        "files": [
            {
                "sha256": f["sha256"],
                "uploaded_at": (day - timedelta(hours=2)).isoformat(),
                "upload_ip": {"ip": f"198.51.100.{n % 250 + 1}", "event": "Upload"},
                "publicly_available": False,
            }
            for f in data.get("files") or []
            if f.get("sha256")
        ],
    }


def create_platform(secret: str, db: str | None = None) -> Flask:
    app = Flask(__name__)
    store = PlatformStore(db)
    hook = Webhook(secret)
    app.extensions[EXTENSION_KEY] = store

    @app.post("/webhooks")
    def receive() -> Response | tuple:
        body = request.get_data()
        try:
            event = hook.verify(body, request.headers)  # the id, the timestamp (5 min) and the signature
        except WebhookVerificationError as e:
            store.record(request.headers.get("webhook-id", ""), "?", False, False, 401, body)
            return jsonify(error=f"signature refused: {e}"), 401
        webhook_id, kind = request.headers["webhook-id"], event.get("type", "")
        fault = store.next_fault()
        if fault == "500":
            store.record(webhook_id, kind, True, False, 500, body, "injected 500")
            return jsonify(error="injected failure"), 500
        if fault == "410":
            store.record(webhook_id, kind, True, False, 410, body, "injected 410 Gone")
            return jsonify(error="gone: send no more"), 410
        if fault in ("timeout", "slow"):
            time.sleep(TIMEOUT_SECONDS if fault == "timeout" else SLOW_SECONDS)
        if kind == "enrichment.request":
            store.record(webhook_id, kind, True, False, 200, body, fault)
            return jsonify(_enrichment(event.get("data") or {}))
        if store.seen(webhook_id):
            store.record(webhook_id, kind, True, True, 200, body, fault)
            return jsonify(ok=True, duplicate=True)
        answer = store.apply(event, webhook_id)
        store.record(webhook_id, kind, True, False, 200, body, fault)
        return jsonify(answer)

    @app.get("/")
    def page() -> str:
        return render_template_string(_PAGE, s=store.state(), faults=FAULTS, labels=LABELS)

    @app.get("/_state")
    def state() -> Response:
        return jsonify(store.state())

    @app.post("/faults")
    def add_faults() -> Response:
        kind = request.form.get("kind") or (request.get_json(silent=True) or {}).get("kind", "")
        count = request.form.get("count") or (request.get_json(silent=True) or {}).get("count", 1)
        if kind not in FAULTS:
            return Response(json.dumps({"error": f"kind must be one of {', '.join(FAULTS)}"}), 400)
        store.add_faults(kind, max(1, min(int(count), 100)))
        return redirect(url_for("page"))

    @app.post("/faults/clear")
    def clear_faults() -> Response:
        store.clear_faults()
        return redirect(url_for("page"))

    return app
