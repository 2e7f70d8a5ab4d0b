from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")
