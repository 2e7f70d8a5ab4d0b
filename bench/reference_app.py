"""The reference for bench/pages.py: a bare Flask app rendering a 50-row table page from a Jinja template,
served by the same gunicorn settings as the console. No database, no session, no login: what the machine
can do
for "a page of 50 rows" before any of the console's own work.

    gunicorn -w 2 -k gthread --threads 4 bench.reference_app:app
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, render_template_string

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


@app.route("/")
def index():
    return render_template_string(PAGE, title="Reference queue", rows=ROWS)
