"""The hash bank for admins (what it holds, importing a list), and its banner on the case page.

A page takes at most MAX_PAGE_FORM_BYTES (1 MiB, some 15,000 PDQ lines): a larger list is imported with
`flask hashbank import FILE --label …`.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from console import sections
from console.hashbank import lists, matching, queries
from console.hashbank.forms import ImportForm
from console.security import role_required
from console.webutil import plural

bp = Blueprint("hashbank", __name__, url_prefix="/hash-bank")


@bp.record_once
def _add_sections(state) -> None:
    """ "Matches reported content" and the earlier CyberTip, on the case page."""
    sections.register(
        state.app,
        sections.Section(
            page="case",
            context=lambda case: {"hash_matches": queries.case_matches(case.id)},
            slots={"banner": "hashbank/_case_banner.html"},
        ),
    )


def _page(form: ImportForm | None = None, problems: list[str] | None = None, status: int = 200):
    context = dict(
        form=form or ImportForm(formdata=None),
        problems=problems or [],
        bank=queries.overview(),
        max_distance=matching.max_distance(),
    )
    # A plain form (a file upload, then POST-redirect-GET): no fragment to swap.
    return render_template("hashbank/index.html", **context), status


@bp.route("/")
@role_required("admin")
def index():
    return _page()


@bp.route("/import", methods=["POST"])
@role_required("admin")
def import_list():
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        source = lists.import_list(form.hash_list.data.read(), form.label.data, actor=current_user)
    except lists.ImportRefused as e:
        return _page(form, problems=e.problems, status=422)
    flash(f"Imported {plural(source.entry_count, 'hash', 'hashes')} from “{source.label}”.")
    return redirect(url_for("hashbank.index"))
