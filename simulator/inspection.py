"""What a developer sees: the HTML page at ``/`` and the JSON endpoints under ``/_sim``.

No auth here: a development tool bound to localhost, holding test data only.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template_string, request

from .app import SimulatorState
from .faults import apply_fault_json

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CyberTipline simulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;margin-bottom:1.5rem}
.scroll{max-width:100%;overflow-x:auto}td{overflow-wrap:anywhere}td,th{min-width:4rem}
@media (max-width:600px){body{margin:.8rem}}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
.finished{color:#060}.retracted,.expired{color:#888}.open{color:#a60}
pre{max-width:60rem;max-height:12rem;overflow:auto;white-space:pre-wrap;margin:0}</style></head>
<body><main><h1>CyberTipline simulator</h1>
<p>Local development tool: received reports ({{ reports|length }}). Calls: {{ stats.calls }}.</p>
<h2>Reports</h2>
<div class="scroll"><table><thead><tr><th>Report</th><th>State</th><th>Incident type</th><th>Contact</th>
<th>Reported user</th>
<th>Files</th></tr></thead><tbody>
{% for r in reports %}<tr>
<td>{{ r.report_id }}<br><small>{{ r.opened_at }}</small></td>
<td class="{{ r.state }}">{{ r.state }}</td>
<td>{{ r.incident_type }}{% if r.escalate_to_high_priority %}<br><strong>escalated:</strong>
{{ r.escalate_to_high_priority }}{% endif %}</td>
<td>{{ r.reporting_person.first_name }} {{ r.reporting_person.last_name }}<br>
{{ r.reporting_person.email }}</td>
<td>{% for u in r.reported_users %}{{ u.screen_name or '' }} {{ (u.display_names or [])|join(', ') }}
{{ u.esp_identifier or '' }} {{ u.emails|join(', ') }}
{% for e in u.ip_events or [] %}<br><small>{{ e.ip_address }}{% if e.port %}:{{ e.port }}{% endif %}
{{ e.event_name or '' }} {{ e.date_time or '' }}</small>{% endfor %}<br>{% endfor %}</td>
<td>{% for f in r.files %}{{ f.filename }} ({{ f.size }} B, md5 {{ f.md5 }}) viewed:
{{ 'yes' if f.file_viewed_by_esp else ('no' if f.file_viewed_by_esp is not none else 'unknown') }}
{% if f.industry_classification %} {{ f.industry_classification }}{% endif %}<br>
{% endfor %}</td></tr>
{% else %}<tr><td colspan="6">No reports yet.</td></tr>{% endfor %}
</tbody></table></div>
<h2>Refused documents</h2>
<div class="scroll"><table><thead><tr><th>When</th><th>Call</th><th>Code</th><th>Why</th>
<th>Received</th></tr>
</thead><tbody>
{% for x in refusals %}<tr>
<td><small>{{ x.refused_at }}</small></td><td>/{{ x.endpoint }}</td><td>{{ x.code }}</td>
<td>{{ x.message }}</td><td><pre>{{ x.body }}</pre>
{% if x.truncated %}<small>(first 64 KiB of {{ x.body_size }} bytes)</small>{% endif %}
</td></tr>
{% else %}<tr><td colspan="5">Nothing refused.</td></tr>{% endfor %}
</tbody></table></div></main></body></html>"""


def inspection_blueprint(state: SimulatorState) -> Blueprint:
    sim = Blueprint("simulator", __name__)

    @sim.get("/")
    @sim.get("/_sim/")
    def page() -> str:
        return render_template_string(
            _PAGE, reports=state.store.reports(), refusals=state.store.refusals(), stats=state.stats()
        )

    @sim.get("/_sim/reports")
    def reports() -> Response:
        return jsonify(state.store.reports(request.args.get("state")))

    @sim.get("/_sim/reports/<report_id>")
    def report(report_id: str) -> Response:
        found = state.store.report(report_id) if report_id.isdigit() and len(report_id) <= 18 else None
        if found is None:
            abort(404)
        return jsonify(found)

    @sim.get("/_sim/refusals")
    def refusals() -> Response:
        return jsonify(state.store.refusals())

    @sim.get("/_sim/stats")
    def stats() -> Response:
        return jsonify(state.stats())

    @sim.delete("/_sim/stats")
    def reset_stats() -> Response:
        state.reset_stats()
        return jsonify(state.stats())

    @sim.get("/_sim/faults")
    def list_faults() -> Response:
        return jsonify({"faults": state.faults.list(), "latency_ms": state.faults.latency_ms})

    @sim.post("/_sim/faults")
    def add_faults() -> tuple[Response, int] | Response:
        data = request.get_json(silent=True)
        try:
            apply_fault_json(state.faults, data)
        except (TypeError, ValueError) as error:
            return jsonify({"error": str(error)}), 400
        return jsonify({"faults": state.faults.list(), "latency_ms": state.faults.latency_ms})

    @sim.delete("/_sim/faults")
    def clear_faults() -> Response:
        state.faults.clear()
        return jsonify({"faults": [], "latency_ms": 0})

    return sim
