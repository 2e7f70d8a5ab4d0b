"""The service's endpoints under ``/api``, answering with its status codes and JSON shapes (API.md §1–§9)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from standins.serving import drop_connection

from . import rules, service
from .faults import Fault

NOT_UNIQUE_SINGLE = "The identifier given is not unique within this platform."
NOT_UNIQUE_BATCH = "The platform identifier(s) are not all unique within this call."
LIMIT_REACHED = "Limit Reached. Please do not overload the API"

Handler = Callable[[str | None, Fault | None], Response]


def api_blueprint(state: Any) -> Blueprint:
    api = Blueprint("dsa_api", __name__)

    def endpoint(name: str, path: str, method: str, *, platform_needed: bool, stores: bool = False):
        def decorator(handler: Handler) -> Handler:
            def view(**kwargs: Any) -> Response:
                state.count(name)
                wait, fault = state.faults.take(name)
                if wait:
                    time.sleep(wait)
                if fault and fault.action == "server_error":
                    return _server_error(fault.status)
                if fault and fault.action == "rate_limit":
                    return _too_many(
                        fault.retry_after, state.limits.per_second, int(time.time()) + fault.retry_after
                    )
                token = _bearer()
                known = token is not None and token in state.tokens
                verdict = state.limits.hit(
                    token if known else f"ip:{request.remote_addr}", authenticated=known
                )
                if not verdict.allowed:
                    return _too_many(verdict.retry_after, verdict.limit, verdict.reset_at)
                if not known:
                    return _json({"message": "Unauthenticated."}, 401)
                platform = state.tokens[token]
                if platform_needed and platform is None:
                    return _json({"message": "This action is unauthorized."}, 403)
                stall = fault if fault and fault.action == "timeout" else None
                if stall and not stores:
                    time.sleep(stall.timeout_ms / 1000)
                    stall = None
                response = handler(platform, stall, **kwargs)
                response.headers["X-RateLimit-Limit"] = str(verdict.limit)
                response.headers["X-RateLimit-Remaining"] = str(verdict.remaining)
                if fault and fault.action == "drop":
                    drop_connection()  # whatever the handler stored stays stored
                return response

            api.add_url_rule(path, endpoint=name, view_func=view, methods=[method])
            return handler

        return decorator

    def refused(platform: str | None, status: int, answer: Any) -> Response:
        state.store.refuse(request.path, platform, status, answer, _now())
        return _json(answer, status)

    def invalid(platform: str | None, errors: dict[str, list[str]]) -> Response:
        # The framework's validation failure: JSON only when the request asks for JSON; a redirect otherwise.
        if not _wants_json():
            return Response("Redirecting…", status=302, headers={"Location": request.host_url})
        return refused(platform, 422, {"message": rules.summary(errors), "errors": errors})

    def store(
        platform: str, endpoint_name: str, statements: list[dict], stall: Fault | None
    ) -> Response | list:
        puids = [statement["puid"] for statement in statements]
        batch = endpoint_name == "statements"
        taken = state.store.claim(platform, puids, batch=batch)
        if taken:
            return _duplicate(refused, platform, taken, batch=batch)
        try:
            if stall:
                time.sleep(stall.timeout_ms / 1000)
                if stall.then == "fail":
                    return _server_error(500)
            try:
                return state.store.store(platform, endpoint_name, statements, _now())
            except sqlite3.IntegrityError:  # another request stored it after our lock ran out
                return _duplicate(refused, platform, puids, batch=batch)
        finally:
            state.store.release(platform, puids)

    @endpoint("ping", "/api/ping", "GET", platform_needed=False)
    def ping(_platform: str | None, _stall: Fault | None) -> Response:
        return _json({"you_say": "ping", "i_say": "pong"}, 200)

    @endpoint("statement", "/api/v1/statement", "POST", platform_needed=True, stores=True)
    def create_one(platform: str, stall: Fault | None) -> Response:
        data = service.read_body(_input())
        errors, excluded = rules.validate(data, rules.RULES)
        if errors:
            return invalid(platform, errors)
        if any(isinstance(data.get(field), list | dict) for field in rules.FREE_TEXT):
            return _server_error(500)  # free text is not type-checked; an array breaks the insert
        statement = service.for_single(data, excluded)
        statement["puid"] = service.puid_text(statement["puid"])
        outcome = store(platform, "statement", [statement], stall)
        if isinstance(outcome, Response):
            return outcome
        answer = service.published(_row(outcome[0], platform), base=_base(), platform=platform, with_id=True)
        return _json(answer, 201)

    @endpoint("statements", "/api/v1/statements", "POST", platform_needed=True, stores=True)
    def create_many(platform: str, stall: Fault | None) -> Response:
        data = service.read_body(_input())
        given = data.get("statements")
        items = list(given.values()) if isinstance(given, dict) else given
        if not isinstance(items, list) or not items:
            message = (
                "The statements field is required." if not items else "The statements field must be an array."
            )
            return invalid(platform, {"statements": [message]})
        if not 1 <= len(items) <= 100:
            return invalid(
                platform, {"statements": ["The statements field must have between 1 and 100 items."]}
            )
        bodies = [item if isinstance(item, dict) else {} for item in items]
        failures, checked = {}, []
        for index, body in enumerate(bodies):
            errors, excluded = rules.validate(body, rules.BATCH_RULES)
            if errors:
                failures[f"statement_{index}"] = errors
            checked.append((body, excluded))
        if failures:
            return refused(platform, 422, {"errors": failures})
        if any(isinstance(body.get(f), list | dict) for body in bodies for f in rules.FREE_TEXT):
            return _server_error(500)
        statements = []
        for body, excluded in checked:
            statement = service.for_batch(body, excluded)
            statement["puid"] = service.puid_text(body["puid"])
            statements.append(statement)
        puids = [s["puid"] for s in statements]
        repeated = list(dict.fromkeys(p for p in puids if puids.count(p) > 1))
        if repeated:
            # PHP array keys: a repeated PUID that looks like an integer comes back as a JSON number.
            shown = [int(p) if p.isdigit() and not p.startswith("0") else p for p in repeated]
            answer = {
                "message": NOT_UNIQUE_BATCH,
                "errors": {"puid": [NOT_UNIQUE_BATCH], "existing_puids": shown},
            }
            return refused(platform, 422, answer)
        outcome = store(platform, "statements", statements, stall)
        if isinstance(outcome, Response):
            return outcome
        base = _base()
        answers = []
        for stored in outcome:
            answer = service.published(_row(stored, platform), base=base, platform=platform, with_id=False)
            answer.pop("content_id", None)
            answers.append(answer)
        return _json({"statements": answers}, 201)

    @endpoint("existing_puid", "/api/v1/statement/existing-puid/<puid>", "GET", platform_needed=True)
    def existing_puid(platform: str, _stall: Fault | None, puid: str) -> Response:
        if state.store.exists(platform, puid):
            # 302 with no Location: "found", not a redirect.
            return _json({"message": "statement of reason found", "puid": puid}, 302)
        return _json({"message": "statement of reason not found", "puid": puid}, 404)

    @endpoint("show", "/api/v1/statement/<uuid>", "GET", platform_needed=False)
    def show(_platform: str | None, _stall: Fault | None, uuid: str) -> Response:
        stored = state.store.statement(uuid)
        if stored is None:
            return _json({"message": "Statement not found."}, 404)
        return _json(service.shown(stored, base=_base()), 200)

    return api


def _duplicate(refused: Callable[..., Response], platform: str, puids: list[str], *, batch: bool) -> Response:
    if batch:
        answer = {
            "message": NOT_UNIQUE_BATCH,
            "errors": {"puid": [NOT_UNIQUE_BATCH], "existing_puids": puids},
        }
    else:
        answer = {
            "message": NOT_UNIQUE_SINGLE,
            "errors": {"puid": [NOT_UNIQUE_SINGLE]},
            "existing": {"puid": puids[0]},
        }
    return refused(platform, 422, answer)


def _row(stored: dict[str, Any], platform: str) -> dict[str, Any]:
    statement = {k: v for k, v in stored.items() if k not in ("uuid", "id", "created_at")}
    return {
        "uuid": stored["uuid"],
        "id": stored["id"],
        "created_at": stored["created_at"],
        "puid": stored["puid"],
        "platform": platform,
        "statement": statement,
    }


def _input() -> Any:
    # The body is read as JSON only with a JSON Content-Type; otherwise as a form (usually: nothing).
    if request.mimetype and ("/json" in request.mimetype or "+json" in request.mimetype):
        return request.get_json(silent=True)
    return request.form.to_dict()


def _wants_json() -> bool:
    accepted = request.headers.get("Accept", "")
    first = accepted.split(",")[0].strip().lower()
    return "/json" in first or "+json" in first


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _json(data: Any, status: int) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def _server_error(status: int) -> Response:
    if status in (502, 504):  # a gateway in front of the service
        words = "Bad Gateway" if status == 502 else "Gateway Timeout"
        return Response(
            f"<html><body><h1>{status} {words}</h1></body></html>", status, content_type="text/html"
        )
    return _json({"message": "Server Error" if status == 500 else "Service Unavailable"}, status)


def _too_many(retry_after: int, limit: int, reset_at: int) -> Response:
    headers = {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset_at),
    }
    return Response(LIMIT_REACHED, 429, headers=headers, content_type="text/plain; charset=UTF-8")


def _base() -> str:
    return request.host_url.rstrip("/")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
