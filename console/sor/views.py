"""Statements of reasons: the agency's card under Settings → External reporting, the mapping page, the list
of statements (with Resend), and the sections it adds to the case and transparency pages.

Views are thin: they read the form, call console/sor/service.py (which commits, then enqueues) and render
what queries.py read. The token is write-only: no page renders it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console import sections
from console.dsa.constants import (
    LABELS,
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    SourceType,
)
from console.queues.models import SOURCE_KINDS
from console.security import role_required, safe_next
from console.sor import agency as agencies
from console.sor import mapping, queries, service
from console.sor.models import ENVIRONMENTS, SOR_STATES

bp = Blueprint("sor", __name__)


def _transparency(period) -> dict:
    return {
        "sor_figures": queries.figures(period.start_at, period.end_at),
        "sor_dimensions": queries.DIMENSIONS,
    }


@bp.record_once
def _add_sections(state) -> None:
    sections.register(
        state.app,
        sections.Section(
            page="case",
            context=lambda case: {"statement_of_reasons": queries.for_case(case.id)},
            slots={"panel": "sor/_case_panel.html"},
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="external_reporting",
            context=queries.settings_context,
            slots={"agencies": "sor/_agency.html"},
        ),
    )
    sections.register(
        state.app,
        sections.Section(page="transparency", context=_transparency, slots={"figures": "sor/_figures.html"}),
    )


@bp.app_template_filter("dsa_label")
def dsa_label(value: str) -> str:
    if value and "," in value:
        return ", ".join(dsa_label(v) for v in value.split(","))
    return LABELS.get(
        value,
        {
            "visibility": "Visibility",
            "account": "Account",
            "provision": "Provision",
            "monetary": "Monetary",
        }.get(value, value or "—"),
    )


def _back():
    return redirect(url_for("settings.external_reporting") + "#dsa-agency")


def _flash_errors(errors: dict) -> None:
    for field, message in errors.items():
        flash(f"{field.replace('_', ' ')}: {message}", "error")


@bp.route("/settings/external-reporting/dsa", methods=["POST"])
@role_required("admin")
def save_agency():
    countries = request.form.get("countries", "").replace(",", " ").split()
    try:
        service.save_agency(
            enabled=request.form.get("enabled") == "on",
            environment=request.form.get("environment", ""),
            countries=countries,
            actor=current_user,
        )
    except agencies.AgencyError as e:
        _flash_errors(e.errors)
    else:
        flash("EU DSA Transparency Database saved.", "success")
    return _back()


@bp.route("/settings/external-reporting/dsa/<name>", methods=["POST"])
@role_required("admin")
def save_environment(name: str):
    if name not in ENVIRONMENTS:
        return ("no such environment", 404)
    try:
        service.save_environment(
            name,
            base_url=request.form.get("base_url", ""),
            token=request.form.get("token", ""),
            actor=current_user,
        )
    except agencies.AgencyError as e:
        _flash_errors(e.errors)
    else:
        flash(f"{ENVIRONMENTS[name]} connection saved.", "success")
    return _back()


@bp.route("/settings/external-reporting/dsa/<name>/test", methods=["POST"])
@role_required("admin")
def test_connection(name: str):
    if name not in ENVIRONMENTS:
        return ("no such environment", 404)
    check = service.test_connection(name, actor=current_user)
    flash(
        f"{ENVIRONMENTS[name]}: {'Connected' if check.ok else 'Not connected'} — {check.message}",
        "success" if check.ok else "error",
    )
    return _back()


# --- the mapping --------------------------------------------------------------------------------


def _options(enum) -> list[tuple[str, str]]:
    return [(member.value, member.label) for member in enum]


@bp.route("/settings/dsa-mapping")
@role_required("admin")
def mapping_page():
    return render_template(
        "sor/mapping.html",
        o=mapping.overview(),
        grounds=mapping.GROUNDS,
        categories=_options(Category),
        specifications=_options(CategorySpecification),
        content_types=_options(ContentType),
        visibilities=_options(DecisionVisibility),
        accounts=_options(DecisionAccount),
        provisions=_options(DecisionProvision),
        monetaries=_options(DecisionMonetary),
        source_types=_options(SourceType),
        source_kinds=SOURCE_KINDS,
    )


def _form() -> dict:
    form = {key: request.form.get(key, "") for key in request.form}
    for many in ("specifications", "content_types", "visibility"):
        form[many] = request.form.getlist(many)
    return form


@bp.route("/settings/dsa-mapping/policies/<int:policy_id>", methods=["POST"])
@role_required("admin")
def save_policy(policy_id: int):
    try:
        service.save_policy_mapping(policy_id, _form(), actor=current_user)
    except LookupError:
        return ("no such policy", 404)
    except mapping.MappingError as e:
        _flash_errors(e.errors)
    else:
        flash("Policy mapping saved.", "success")
    return redirect(url_for("sor.mapping_page") + f"#policy-{policy_id}")


@bp.route("/settings/dsa-mapping/actions/<int:action_id>", methods=["POST"])
@role_required("admin")
def save_action(action_id: int):
    try:
        service.save_action_mapping(action_id, _form(), actor=current_user)
    except LookupError:
        return ("no such action", 404)
    except mapping.MappingError as e:
        _flash_errors(e.errors)
    else:
        flash("Action mapping saved.", "success")
    return redirect(url_for("sor.mapping_page") + f"#action-{action_id}")


@bp.route("/settings/dsa-mapping/sources", methods=["POST"])
@role_required("admin")
def save_sources():
    try:
        service.save_sources({k: request.form.get(k, "") for k in SOURCE_KINDS}, actor=current_user)
    except mapping.MappingError as e:
        _flash_errors(e.errors)
    else:
        flash("Sources saved.", "success")
    return redirect(url_for("sor.mapping_page") + "#sources")


# --- the statements --------------------------------------------------------------------------------


@bp.route("/statements-of-reasons")
@role_required("admin")
def statements():
    state = request.args.get("state", "")
    before = request.args.get("before", type=int)
    rows, next_before = queries.page(state, before)
    return render_template(
        "sor/statements.html",
        rows=rows,
        next_before=next_before,
        state=state,
        states=SOR_STATES,
        counts=queries.state_counts(),
        environments=agencies.environments(),
    )


@bp.route("/statements-of-reasons/<int:sor_id>/resend", methods=["POST"])
@role_required("admin")
def resend(sor_id: int):
    try:
        pending = service.resend(sor_id, actor=current_user)
    except LookupError:
        return ("no such statement", 404)
    flash(
        "Sent again." if pending else "Not sent: it still cannot be built or was refused by our check.",
        "success" if pending else "error",
    )
    return redirect(safe_next(request.form.get("next"), url_for("sor.statements")))
