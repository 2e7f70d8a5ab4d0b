"""Transparency figures of the NCMEC work, for admins: the page (its chart drawn as SVG) and a CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request

from console import sections
from console.security import role_required
from console.transparency import chart, queries

bp = Blueprint("transparency", __name__, url_prefix="/transparency")
# A spreadsheet runs a cell that starts with one of these as a formula: NCMEC's reasons are not ours to run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _period() -> tuple[queries.Period, str | None]:
    try:
        return queries.parse_period(request.args.get("from"), request.args.get("to")), None
    except queries.PeriodError as e:
        return queries.default_period(), f"{e}; showing the last twelve months."


@bp.route("/")
@role_required("admin")
def index():
    period, problem = _period()
    figures = queries.figures(period)
    distribution = chart.bar_chart("Time from confirmation to finished", figures.distribution)
    return render_template(
        "transparency/index.html",
        period=period,
        problem=problem,
        f=figures,
        distribution=distribution,
        kinds=queries.MATCH_KINDS,
        triggers=list(queries.TRIGGERS.values()),
        duration=queries.human_duration,
        **sections.context_for("transparency", period=period),
    )


@bp.route("/export.csv")
@role_required("admin")
def export():
    period, _problem = _period()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "month", "key", "value"])
    for row in queries.csv_rows(queries.figures(period)):
        writer.writerow([_cell(v) for v in row])
    name = f"transparency-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _cell(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
