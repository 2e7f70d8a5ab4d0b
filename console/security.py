"""Roles, security headers, refusing unusable input, and the error pages that go with them."""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from console.extensions import db, login_manager
from console.text_rules import echo, text_problem

log = logging.getLogger(__name__)
HSTS = "max-age=31536000"

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def role_required(role: str):
    """Every view declares its role; a route sweep in the tests checks that none is missing."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator


CHILD_SAFETY_ONLY = (
    "This is child-safety material: only people with the child-safety permission see it, so that as few "
    "people as possible do (18 U.S.C. §2258B(c)). Ask an admin if your work needs it."
)


def refuse_child_safety():
    abort(403, CHILD_SAFETY_ONLY)


def child_safety_required(view):
    """A view that shows child-safety material whatever it is asked for: reports to NCMEC, their evidence, the
    NCMEC dialog. Below role_required; pages about one case ask console.childsafety.access instead."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not getattr(current_user, "child_safety_access", False):
            refuse_child_safety()
        return view(*args, **kwargs)

    return wrapped


# What a `next` target may contain: printable ASCII except the backslash (browsers read it as a slash).
# Everything else — tabs and line breaks (dropped by browsers' URL parsers), spaces, control characters,
# non-ASCII (full-width solidus and friends) — refuses the target outright instead of being cleaned.
_NEXT_ALLOWED = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"\\"}
NEXT_MAX = 2000


def safe_next(target: str | None, fallback: str | None = None, *, within: str = "/") -> str:
    """Where to go back to after an action: a path on this site under ``within``, else ``fallback`` (the
    queues). The one check for every `next` the console takes (sign-in, the break screen, the Reports page).

    Only an absolute path with a single leading slash passes: `//host`, `///host` (urlsplit sees no host,
    a browser does), `/\\host`, `https:host`, `javascript:…` and anything with a scheme or a host do not.
    """
    fallback = fallback or url_for("queues.index")
    if not target or len(target) > NEXT_MAX or not set(target) <= _NEXT_ALLOWED:
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    inside = within == "/" or parts.path == within or parts.path.startswith(within.rstrip("/") + "/")
    if parts.scheme or parts.netloc or not inside:
        return fallback
    return target


def public(view):
    """Marks a view that deliberately needs no sign-in (sign-in page, health check, token-auth API)."""
    view.required_role = None
    return view


def init_app(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        # Exactly as many hops as configured: trusting more lets a client forge X-Forwarded-For.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from console.accounts import signed_in

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = app.config["SESSION_PROTECTION"]

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<user id>:<session version>": a session from before the user's last sign-out, password change or
        # deactivation names an older version and loads nobody. The user comes from their copy in Redis
        # (console/accounts/signed_in.py: stale at once after any change to the user); writes read the row.
        user_id, _, version = session_id.partition(":")
        if not (user_id.isdigit() and version.isdigit() and len(user_id) < 19 and len(version) < 19):
            return None
        return signed_in.load(int(user_id), int(version), method=request.method, build_nav=navigation)

    app.jinja_env.globals["navigation"] = lambda: navigation_of(current_user)

    app.before_request(refuse_unusable_text)

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["SESSION_COOKIE_SECURE"]:
            # Served over HTTPS only: tell the browser never to try plain http (where the cookie is not sent).
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            # Pages carry case content: keep them out of shared and back-button caches.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(e):
        # Statuses without a page of their own (400, 405, 422…): the API still answers in JSON.
        if is_api_request() and (e.code or 500) >= 400:
            return api_error(e.code or 500, {"request": e.description or e.name})
        return e

    @app.errorhandler(500)
    def server_error(_e):
        if is_api_request():
            return api_error(500, {"server": "an unexpected error; nothing was stored"})
        return error_page(500, "Something went wrong", "An unexpected error; nothing was changed.")

    @app.errorhandler(OverflowError)
    @app.errorhandler(sa_exc.StatementError)
    def out_of_range(e):
        # An id, cursor or date the database cannot hold (a 23-digit id, year 1 at +14:00): nothing can be
        # there, nor be stored. PostgreSQL says DataError; SQLite and the UTC conversion raise OverflowError,
        # which SQLAlchemy wraps when it happens while binding a parameter.
        if isinstance(e, sa_exc.StatementError) and not (
            isinstance(e, sa_exc.DataError) or isinstance(e.orig, OverflowError)
        ):
            raise e
        db.session.rollback()
        log.info("out-of-range value in %s %s: %s", request.method, request.path, e.__class__.__name__)
        if request.method in ("GET", "HEAD"):
            return not_found(e)
        return error_page(
            422, "Value out of range", "A value in the request is out of range; nothing was changed."
        )

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_page(
            400,
            "Form expired or forged",
            "The security token of this form was missing or invalid (" + e.description + "). "
            "Reload the page and try again; nothing was changed.",
        )

    @app.errorhandler(403)
    def forbidden(e):
        message = e.description if e.description == CHILD_SAFETY_ONLY else None
        return error_page(403, "Not allowed", message or "Your role does not give access to this page.")

    @app.errorhandler(404)
    def not_found(_e):
        return error_page(404, "Not found", "There is nothing at this address.")

    @app.errorhandler(413)
    def too_large(e):
        return error_page(413, "Too large", too_large_message(e))

    @app.errorhandler(429)
    def too_many(_e):
        return error_page(
            429, "Too many attempts", "Too many sign-in attempts. Wait a few minutes and try again."
        )


def navigation(user) -> list:
    """The main navigation of this person (their role and permission decide it): built once per signed-in
    copy and kept with it (console/accounts/signed_in.py), not per request."""
    from console.accounts.signed_in import NavLink

    links = [("queues.index", "Queues"), ("queues.assigned", "Assigned to me")]
    links.append(("childsafety.mine", "Viewing"))
    if user.is_admin:
        if user.child_safety_access:
            links.append(("reporting.reports", "Reports"))
        links += [("transparency.index", "Transparency"), ("settings.index", "Settings")]
    return [NavLink(endpoint, label, url_for(endpoint)) for endpoint, label in links]


def navigation_of(user) -> list:
    """The signed-in copy's navigation; built here for a user that is not a copy (the sign-in request)."""
    if not user.is_authenticated:
        return []
    return getattr(user, "nav", None) or navigation(user)


def is_api_request() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def api_error(status: int, errors: dict[str, str]):
    response = jsonify({"errors": errors})
    response.status_code = status
    return response


def error_page(status: int, title: str, message: str):
    if is_api_request():
        return api_error(status, {"request": message})
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def too_large_message(e) -> str:
    """Which limit a 413 hit: the request size, the number of form parts, or one form field's size."""
    from flask import current_app

    cfg = current_app.config
    reason = getattr(e, "description", "") or ""
    if reason.startswith("parts:"):
        return f"The form has more than {cfg['MAX_FORM_PARTS']} parts; send fewer files or fields at once."
    if reason.startswith("field:"):
        return f"A form field is larger than {cfg['MAX_FORM_MEMORY_SIZE']} bytes."
    return f"The request is larger than this console accepts ({request.max_content_length} bytes)."


def refuse_unusable_text():
    """Refuse NUL, control characters and lone surrogates in any query or form value before a view sees it.

    Fields are not all known here, so tab and line breaks pass (a multi-line field needs them); forms refine
    this per field. The API checks its own body after the caller's token: an anonymous caller must not make
    the console parse a large body.
    """
    sources = [request.args] if is_api_request() else [request.args, request.form]
    for values in sources:
        for key, value in values.items(multi=True):
            problem = text_problem(key, multiline=True) or text_problem(value, multiline=True)
            if problem:
                return _unusable(key, problem)
    if not is_api_request():
        for key, upload in request.files.items(multi=True):
            problem = text_problem(key, multiline=True) or text_problem(upload.filename or "")
            if problem:
                return _unusable(key, "file name " + problem)
    return None


def _unusable(field: str, problem: str):
    return error_page(
        422, "Unusable characters", f"The field {echo(field, 40)} {problem}. Nothing was changed."
    )
