from __future__ import annotations

from flask import Blueprint

from console.security import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/health")
@public
def health():
    return {"status": "ok"}
