"""The references for bench/pages.py and bench/ingest.py, served by the same gunicorn settings as the console.

`GET /` renders a 50-row table page from a Jinja template: no database, no session, no login — what the
machine can do for "a page of 50 rows" before any of the console's own work. The template is compiled once,
as Flask does for a file template (`render_template_string` would compile it on every request: an earlier
version of this file did, which made the reference ~3.5× slower than a real bare page and flattered every
ratio).

`POST /json` takes the body the ingestion API takes, parses it as JSON and answers 201 with a small JSON
document: the bare Flask JSON endpoint that `POST /api/v1/cases` is compared with.

    gunicorn -w 2 -k gthread --threads 4 bench.reference_app:app
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, jsonify, request

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reference — 50 rows</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header><nav><a href="/">Queues</a></nav></header>
<main><h1>{{ title }}</h1>
<table class="cases"><thead><tr><th>Case</th><th>Content</th><th>Reported user</th><th>Policy</th>
<th>Reported</th><th>Status</th></tr></thead><tbody>
{% for r in rows %}<tr>
  <td><a href="/cases/{{ r.id }}">#{{ r.id }}</a>{% if r.ai %} <span class="badge">AI</span>{% endif %}</td>
  <td>{{ r.text }}</td><td>{{ r.user }}</td><td>{{ r.policy }}</td>
  <td><time datetime="{{ r.at.isoformat() }}">{{ r.at.strftime('%Y-%m-%d %H:%M') }}</time></td>
  <td>{{ r.status }}</td>
</tr>{% endfor %}
</tbody></table>
<a class="button" href="/?after={{ rows[-1].id }}">Load more</a></main></body></html>
"""

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ROWS = [
    {
        "id": 1000 + i,
        "ai": i % 3 == 0,
        "text": f"Buy followers now!!! cheap cheap cheap <{i}>",
        "user": f"Platform user {i}",
        "policy": "Spam",
        "at": NOW - timedelta(hours=i),
        "status": "Open",
    }
    for i in range(50)
]


TEMPLATE = app.jinja_env.from_string(PAGE)


@app.route("/")
def index():
    return TEMPLATE.render(title="Reference queue", rows=ROWS)


@app.route("/json", methods=["POST"])
def json_endpoint():
    body = request.get_json()
    response = jsonify({"id": 1, "content_id": body.get("content_id"), "status": "open"})
    response.status_code = 201
    return response
