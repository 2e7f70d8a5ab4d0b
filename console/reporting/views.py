from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reporting", __name__)
