from __future__ import annotations

from flask import Blueprint, render_template

from console.security import role_required

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/")
@role_required("admin")
def index():
    return render_template("settings/index.html")
