"""What a developer sees: the page of received statements at ``/``, each statement's page (the answers'
``permalink``), and the control endpoints under ``/_standin``.

No auth here: a development tool bound to localhost, holding test data only. Tokens are never shown.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template_string, request

from .faults import Fault

_STYLE = """body{font:14px system-ui,sans-serif;margin:1.5rem}
table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}small{color:#555}
pre{max-width:70rem;overflow:auto;white-space:pre-wrap;margin:0}"""

_LIST = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DSA Transparency Database stand-in</title>
<style>{{ style }}</style></head>
<body><h1>DSA Transparency Database stand-in</h1>
<p>Local development tool. Statements of reasons received: {{ statements|length }}.
Calls: {{ stats.calls }}. Faults fired: {{ stats.faults_fired }}.</p>
<h2>Statements of reasons</h2>
<table><thead><tr><th>Received</th><th>Platform</th><th>PUID</th><th>Category</th><th>Ground</th>
<th>Restrictions</th><th>Content</th><th>Source</th><th>Automation</th><th>Scope</th></tr></thead><tbody>
{% for row in statements %}{% set s = row.statement %}<tr>
<td><a href="/statement/{{ row.uuid }}">{{ row.uuid }}</a><br>
<small>{{ row.created_at }} · {{ row.endpoint }}</small></td>
<td>{{ row.platform }}</td><td>{{ row.puid }}</td>
<td>{{ s.category }}{% for k in s.category_specification or [] %}<br><small>{{ k }}</small>{% endfor %}</td>
<td>{{ s.decision_ground }}<br>
<small>{{ s.illegal_content_legal_ground or s.incompatible_content_ground or '' }}</small></td>
<td>{% for v in s.decision_visibility or [] %}{{ v }}<br>{% endfor %}{{ s.decision_monetary or '' }}
{{ s.decision_provision or '' }} {{ s.decision_account or '' }}</td>
<td>{{ (s.content_type or [])|join(', ') }}</td>
<td>{{ s.source_type }}</td>
<td>detection: {{ s.automated_detection }}<br>{{ s.automated_decision }}</td>
<td>{{ (s.territorial_scope or [])|join(' ') }}</td></tr>
{% else %}<tr><td colspan="10">No statements yet.</td></tr>{% endfor %}
</tbody></table>
<h2>Refused</h2>
<table><thead><tr><th>When</th><th>Call</th><th>Status</th><th>Answer</th></tr></thead><tbody>
{% for r in refusals %}<tr><td><small>{{ r.refused_at }}</small></td><td>{{ r.endpoint }}</td>
<td>{{ r.status }}</td>
<td><pre>{{ r.answer|tojson(indent=1) }}</pre></td></tr>
{% else %}<tr><td colspan="4">Nothing refused.</td></tr>{% endfor %}
</tbody></table></body></html>"""

_ONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement {{ row.uuid }}</title>
<style>{{ style }}</style></head>
<body><p><a href="/">All statements</a></p><h1>Statement of reasons {{ row.uuid }}</h1>
<p>{{ row.platform }} · PUID {{ row.puid }} · received {{ row.created_at }} through {{ row.endpoint }}</p>
<table>{% for key, value in row.statement.items() %}
<tr><th>{{ key }}</th><td>{{ value }}</td></tr>{% endfor %}
</table></body></html>"""


def pages_blueprint(state: Any) -> Blueprint:
    pages = Blueprint("dsa_pages", __name__)

    @pages.get("/")
    def received() -> str:
        return render_template_string(
            _LIST,
            style=_STYLE,
            statements=list(reversed(state.store.statements())),
            refusals=list(reversed(state.store.refusals())),
            stats=state.stats(),
        )

    @pages.get("/statement/<uuid>")
    def statement(uuid: str) -> str:
        row = state.store.statement(uuid)
        if row is None:
            abort(404)
        return render_template_string(_ONE, style=_STYLE, row=row)

    @pages.get("/_standin/statements")
    def statements() -> Response:
        return jsonify(state.store.statements(request.args.get("platform"), request.args.get("puid")))

    @pages.get("/_standin/refusals")
    def refusals() -> Response:
        return jsonify(state.store.refusals())

    @pages.get("/_standin/stats")
    def stats() -> Response:
        return jsonify(state.stats())

    @pages.get("/_standin/faults")
    def faults() -> Response:
        return jsonify({"faults": state.faults.list(), "latency_ms": state.faults.latency_ms})

    @pages.post("/_standin/faults")
    def add_faults() -> Response | tuple[Response, int]:
        try:
            state.faults.apply_json(request.get_json(silent=True), Fault)
        except (TypeError, ValueError) as error:
            return jsonify({"error": str(error)}), 400
        return faults()

    @pages.delete("/_standin/faults")
    def clear_faults() -> Response:
        state.faults.clear()
        return faults()

    @pages.get("/_standin/limits")
    def limits() -> Response:
        return jsonify(state.limits.shown())

    @pages.post("/_standin/limits")
    def set_limits() -> Response | tuple[Response, int]:
        data = request.get_json(silent=True)
        try:
            if not isinstance(data, dict):
                raise ValueError("send {per_second, per_minute, anonymous_per_minute}: any of them")
            state.limits.set(**data)
        except (TypeError, ValueError) as error:
            return jsonify({"error": str(error)}), 400
        return jsonify(state.limits.shown())

    return pages
