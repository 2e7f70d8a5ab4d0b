"""The JSON API for upstream systems: bearer tokens, never cookies, so no CSRF; errors are JSON too."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from console.api import ingestion, tokens
from console.extensions import csrf
from console.security import public, too_large_message

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Authenticated by the Authorization header, which a browser never adds on its own: CSRF cannot apply.
csrf.exempt(bp)


def _errors(status: int, errors: dict[str, str], **headers):
    response = jsonify({"errors": errors})
    response.status_code = status
    response.headers.update(headers)
    return response


def _unauthorized(message: str):
    return _errors(401, {"authorization": message}, **{"WWW-Authenticate": 'Bearer realm="api"'})


def _caller() -> tokens.ApiCaller | None:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return tokens.caller_for(raw.strip())


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e):
    return _errors(413, {"body": too_large_message(e)})


@bp.route("/health")
@public
def health():
    return {"status": "ok"}


@bp.route("/cases", methods=["POST"])
@public  # token-authenticated below
def create_case():
    if "Authorization" not in request.headers:
        return _unauthorized("send Authorization: Bearer <token>")
    caller = _caller()
    if caller is None:
        return _unauthorized("the token is missing, unknown or revoked")

    if request.mimetype == "multipart/form-data":
        raw = request.form.get("case")
        if raw is None:
            return _errors(
                422, {"case": "multipart requests carry the case JSON in a form field named 'case'"}
            )
        uploads = [
            ingestion.MediaUpload(f.filename or "file", f.stream, f.mimetype or "")
            for f in request.files.getlist("media")
        ]
        unexpected = sorted(set(request.files) - {"media"})
        if unexpected:
            return _errors(
                422, {name: "unknown file part: files go in parts named 'media'" for name in unexpected}
            )
    elif request.mimetype == "application/json":
        raw = request.get_data(as_text=True)
        uploads = []
    else:
        return _errors(
            415,
            {"body": "send application/json, or multipart/form-data with a 'case' field and 'media' files"},
        )
    where = "case" if request.mimetype == "multipart/form-data" else "body"
    try:
        payload = json.loads(raw)
    except ValueError as e:
        return _errors(422, {where: f"not valid JSON: {str(e)[:200]}"})
    except RecursionError:
        # Python's parser recurses once per level: 100,000 nested brackets exhaust the stack.
        return _errors(422, {where: "not valid JSON: nested too deeply"})

    try:
        req = ingestion.parse_case_request(payload, uploads)
        result = ingestion.ingest_case(req, actor_label=caller.actor_label)
    except ingestion.ValidationFailed as e:
        return _errors(422, e.errors)

    body = {
        "case_id": result.case_id,
        "created": result.created,
        "queue": result.queue_slug,
        "url": url_for("cases.show", case_id=result.case_id, _external=True),
    }
    if result.created:
        return body, 201, {"Location": body["url"]}
    return body, 200
