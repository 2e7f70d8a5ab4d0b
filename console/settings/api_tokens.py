"""Settings → API tokens: admins create tokens for upstream systems (shown once) and revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from console.api import tokens
from console.security import role_required
from console.settings.forms import TokenForm
from console.webutil import is_htmx, page_or_fragment

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")


def _page(form: TokenForm | None = None, new_token: str | None = None, status: int = 200):
    context = dict(
        form=form or TokenForm(formdata=None),
        tokens=tokens.list_tokens(),
        new_token=new_token,
    )
    return page_or_fragment("api_tokens/index.html", "api_tokens/_panel.html", context, status)


@bp.route("/")
@role_required("admin")
def index():
    return _page()


@bp.route("/", methods=["POST"])
@role_required("admin")
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        _token, raw = tokens.create_token(form.name.data, current_user)
    except ValueError as e:
        form.name.errors = [*form.name.errors, str(e)]
        return _page(form, status=422)
    # Rendered, never redirected: the secret must not travel through the session to a second request.
    return _page(new_token=raw, status=201)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@role_required("admin")
def revoke(token_id: int):
    token = tokens.revoke_token(token_id, current_user)
    if token is None:
        abort(404)
    if is_htmx():
        return render_template("api_tokens/_row.html", token=token)
    flash(f"Token {token.name} ({token.prefix}…) revoked.")
    return redirect(url_for("api_tokens.index"))
