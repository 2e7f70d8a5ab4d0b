"""The CyberTipline endpoints under ``/ispws``, answering as the real service does (see replies.py)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from flask import Blueprint, Response, request

from standins.serving import drop_connection

from .app import SimulatorState
from .fields import file_details_fields, report_fields
from .replies import (
    INVALID_REQUEST,
    MALFORMED_FILE_SUBMITTAL,
    MALFORMED_SUBMITTAL,
    report_done_response,
    report_response,
    unauthorised,
)
from .schema import DocumentRefused
from .store import ReportStateConflict

Handler = Callable[[], Response]

# What the service says before the validator's message, per endpoint. The report's is recorded; the
# fileDetails one is our guess in the same shape.
_REFUSAL_PREFIX = {
    "submit": "Malformed (xml) report submittal - ",
    "fileinfo": "Malformed (xml) file details submittal - ",
}


def _authorised(state: SimulatorState) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    user_ok = hmac.compare_digest((auth.username or "").encode(), state.username.encode())
    password_ok = hmac.compare_digest((auth.password or "").encode(), state.password.encode())
    return user_ok and password_ok


def _received(name: str) -> bytes:
    """What to keep of a refused call: the document itself, or the form fields (never uploaded bytes)."""
    if name in _REFUSAL_PREFIX:
        return request.get_data(cache=True)
    fields = [f"{key}={value}" for key, value in request.form.items(multi=True)]
    fields += [f"{key}=<file {upload.filename!r}>" for key, upload in request.files.items(multi=True)]
    return "&".join(fields).encode()


def api_blueprint(state: SimulatorState) -> Blueprint:
    api = Blueprint("cybertipline", __name__, url_prefix="/ispws")

    def refuse(name: str, code: int, message: str) -> Response:
        state.store.record_refusal(name, code, message, _received(name))
        return report_response(code, message)

    def endpoint(name: str, methods: list[str]) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            def view() -> Response:
                with state.handling(name):
                    return respond()

            def respond() -> Response:
                delay, fault = state.faults.take(name)
                if delay:
                    time.sleep(delay)
                if fault and fault.action == "timeout":
                    time.sleep(fault.timeout_ms / 1000)
                if fault and fault.action == "http_500":
                    return Response("Internal Server Error", status=500, content_type="text/plain")
                if fault and fault.action == "code":
                    return report_response(fault.code, http_status=fault.http_status)
                if not _authorised(state):
                    return unauthorised()
                try:
                    response = handler()
                except DocumentRefused as refusal:
                    response = refuse(name, MALFORMED_SUBMITTAL, _REFUSAL_PREFIX[name] + str(refusal))
                except ReportStateConflict as conflict:
                    response = refuse(name, conflict.code, str(conflict))
                if fault and fault.action == "drop":
                    drop_connection()
                return response

            api.add_url_rule(f"/{name}", endpoint=name, view_func=view, methods=methods)
            return handler

        return decorator

    @endpoint("status", ["GET"])
    def status() -> Response:
        return report_response(0, f"Remote User : {state.username}, Remote Ip : {request.remote_addr}")

    @endpoint("xsd", ["GET"])
    def xsd() -> Response:
        response = Response(state.schema.xsd)
        response.headers["Content-Type"] = "application/xml;charset=ISO-8859-1"
        return response

    @endpoint("submit", ["POST"])
    def submit() -> Response:
        body = request.get_data(cache=True)
        root = state.schema.check(body, "report")
        report_id = state.store.open_report(body, report_fields(root))
        return report_response(0, report_id=report_id)

    @endpoint("upload", ["POST"])
    def upload() -> Response:
        report_id = request.form.get("id", "").strip()
        upload = request.files.get("file")
        if not report_id:
            return refuse("upload", INVALID_REQUEST, "Invalid request: the field 'id' is required")
        if upload is None:
            return refuse("upload", MALFORMED_FILE_SUBMITTAL, "Malformed file submittal: no 'file' part")
        digest = hashlib.md5()  # noqa: S324 - the API reports MD5
        size = 0
        while chunk := upload.stream.read(65536):
            digest.update(chunk)
            size += len(chunk)
        md5 = digest.hexdigest()
        file_id = state.store.add_file(report_id, upload.filename, size, md5)
        return report_response(0, report_id=report_id, file_id=file_id, file_hash=md5)

    @endpoint("fileinfo", ["POST"])
    def fileinfo() -> Response:
        body = request.get_data(cache=True)
        root = state.schema.check(body, "fileDetails")
        report_id = (root.findtext("reportId") or "").strip()
        file_id = (root.findtext("fileId") or "").strip()
        state.store.set_file_details(report_id, file_id, body, file_details_fields(root))
        # Not recorded; answered in the shape of the other calls that act on a report.
        return report_response(0, report_id=report_id)

    @endpoint("finish", ["POST"])
    def finish() -> Response:
        report_id = request.form.get("id", "").strip()
        if not report_id:
            return refuse("finish", INVALID_REQUEST, "Invalid request: the field 'id' is required")
        return report_done_response(report_id, state.store.finish(report_id))

    @endpoint("retract", ["POST"])
    def retract() -> Response:
        report_id = request.form.get("id", "").strip()
        if not report_id:
            return refuse("retract", INVALID_REQUEST, "Invalid request: the field 'id' is required")
        state.store.retract(report_id)
        return report_response(0, report_id=report_id)

    return api
