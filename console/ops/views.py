"""Health, readiness and metrics for machines; the filing clock and the workers for admins."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import current_user

from console import outage
from console.extensions import db
from console.ops import checks
from console.ops.clock import filing_clock
from console.ops.metrics import render as render_metrics
from console.security import public, role_required
from console.timeutil import utcnow
from console.webhooks import queries as webhooks

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Liveness: the process answers. Nothing else is checked, so a slow database never restarts the web."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz():
    """Readiness: 503 when a required dependency is down. Which one, and how (NCMEC's last connection test,
    the number of workers), only for the metrics token or a signed-in admin: an anonymous caller — a load
    balancer — needs the status code, and nothing here is theirs to know."""
    found = checks.readiness()
    ready = all(c.ok for c in found if c.required)
    body: dict = {"ready": ready}
    if _has_metrics_token() or _signed_in_admin():
        body["checks"] = {c.name: {"ok": c.ok, "required": c.required, "detail": c.detail} for c in found}
    return jsonify(body), 200 if ready else 503


def _signed_in_admin() -> bool:
    """Loading the signed-in user needs the database: while it is down, the caller is anonymous here (the
    answer is 503 either way) rather than a 500."""
    try:
        return bool(current_user.is_authenticated and current_user.is_admin)
    except Exception:  # noqa: BLE001 - any driver error: the database is what readiness is reporting on
        db.session.rollback()
        outage.as_anonymous()
        return False


def _has_metrics_token() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        return False
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _may_scrape() -> bool:
    if _has_metrics_token():
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOW_NETWORKS"])


@bp.get("/metrics")
@public
def metrics():
    """Prometheus text format, for the metrics token or the allowed networks (loopback by default)."""
    if not _may_scrape():
        return Response("metrics: send the metrics token or scrape from an allowed network\n", 403)
    return Response(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")


@bp.get("/ops/banner")
@role_required("admin")
def banner():
    """The admins' banner (loaded by htmx on every page): the filing clock past its threshold, or a stuck
    pipeline (no worker, reports waiting for credentials or failed)."""
    clock = filing_clock()
    limit = current_app.config["FILING_CLOCK_ALERT_MINUTES"] * 60
    age = clock.age_seconds()
    try:
        workers = checks.workers()
    except Exception:  # noqa: BLE001 - the banner must never break a page
        workers = checks.Check("workers", False, "unknown")
    platform = webhooks.health()
    return render_template(
        "ops/_banner.html",
        platform=platform,
        platform_late=platform.oldest_age_seconds() > current_app.config["WEBHOOK_ALERT_MINUTES"] * 60,
        platform_age_minutes=int(platform.oldest_age_seconds() // 60),
        clock=clock,
        age_minutes=int(age // 60),
        late=age > limit,
        limit_minutes=int(limit // 60),
        workers=workers,
    )


@bp.get("/settings/workers")
@role_required("admin")
def workers_page():
    """What RQ's own dashboard would show, behind the console's sign-in: workers, queue depths, the clock."""
    try:
        rows, depths, error = checks.worker_rows(), checks.queue_depths(), ""
    except Exception as e:  # noqa: BLE001
        rows, depths, error = [], {}, f"Redis did not answer ({type(e).__name__})"
    return render_template(
        "ops/workers.html",
        rows=rows,
        depths=depths,
        error=error,
        clock=filing_clock(),
        readiness=checks.readiness(),
        now=utcnow(),
    )
