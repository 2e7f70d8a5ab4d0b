"""Roles, security headers and the error pages that go with them."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from console.extensions import db, login_manager

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


def public(view):
    """Marks a view that deliberately needs no sign-in (sign-in page, health check, token-auth API)."""
    view.required_role = None
    return view


def init_app(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        # Exactly as many hops as configured: trusting more lets a client forge X-Forwarded-For.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from console.accounts.models import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = app.config["SESSION_PROTECTION"]

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            # Pages carry case content: keep them out of shared and back-button caches.
            response.headers["Cache-Control"] = "no-store"
        return response

    def error_page(status: int, title: str, message: str):
        template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
        return render_template(template, status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_page(
            400,
            "Form expired or forged",
            "The security token of this form was missing or invalid (" + e.description + "). "
            "Reload the page and try again; nothing was changed.",
        )

    @app.errorhandler(403)
    def forbidden(_e):
        return error_page(403, "Not allowed", "Your role does not give access to this page.")

    @app.errorhandler(404)
    def not_found(_e):
        return error_page(404, "Not found", "There is nothing at this address.")

    @app.errorhandler(413)
    def too_large(_e):
        return error_page(413, "Too large", "The upload is larger than this console accepts.")

    @app.errorhandler(429)
    def too_many(_e):
        return error_page(
            429, "Too many attempts", "Too many failed attempts. Wait a few minutes and try again."
        )
