"""Bidirectional controls: refused where the console names things, shown isolated and marked where the
platform named them (second outside sweep: a file name displayed as `gpj.exe`, token names as typed).

U+202E RIGHT-TO-LEFT OVERRIDE makes what follows display backwards: "invoice\u202egpj.exe" reads as
"invoiceexe.jpg".
"""

from __future__ import annotations

import io
import json

import pytest

from console.api import tokens
from console.childsafety import service as care
from console.hashbank import lists
from console.settings import service as settings
from tests import factories
from tests.settings.helpers import admin_world, make_rule

OVERRIDE = "\u202e"
# Embeddings and overrides, isolates, and the three marks: what reorders text without showing itself.
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
SPOOFED = f"invoice{OVERRIDE}gpj.exe"


@pytest.mark.parametrize("control", list(CONTROLS), ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_direction_control_is_refused_in_a_name(control):
    from console.text_rules import name_problem

    problem = name_problem(f"scanner{control}x")
    assert problem and f"U+{ord(control):04X}" in problem
    assert name_problem("سكانر scanner ✓") is None  # right-to-left text itself is a name like any other


def test_an_admin_cannot_name_a_token_with_a_direction_control(ctx, client, auth, runner):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    page = auth.post("/settings/api-tokens/", {"name": SPOOFED}, token_from="/settings/api-tokens/")
    assert page.status_code == 422 and "U+202E" in page.text
    with pytest.raises(ValueError, match="U\\+202E"):
        tokens.create_token(SPOOFED)
    result = runner.invoke(args=["api", "create-token", SPOOFED])
    assert result.exit_code != 0 and "U+202E" in result.output
    assert tokens.list_tokens() == []


def test_rules_teams_hash_lists_and_accounts_refuse_them_too(ctx, runner):
    admin, policies, ai_queue, _other = admin_world()
    with pytest.raises(settings.SettingsError) as refused:
        make_rule(policies, ai_queue, name=f"NCMEC{OVERRIDE} auto")
    assert "U+202E" in refused.value.errors["name"]
    with pytest.raises(care.CareError):
        care.set_team(admin.id, f"Team{OVERRIDE}A", actor=admin)
    with pytest.raises(lists.ImportRefused, match="U\\+202E"):
        lists.import_list(b"algorithm,hash\nphotodna,AbC+/=x9\n", f"List{OVERRIDE}")
    result = runner.invoke(
        args=["create-user", "e@example.org", f"Eve{OVERRIDE}", "--role", "admin"],
        input="a-long-password-1\n",
    )
    assert result.exit_code != 0 and "U+202E" in result.output


def test_names_the_platform_sent_are_shown_isolated_with_the_control_written_out(ctx, client, auth):
    """A file name and a user name are evidence: kept as sent, never able to reorder the page."""
    factories.user("moderator", email="m@example.org")
    queue = factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("upload-scanner")
    case = {
        "content_id": "post-bidi",
        "reported_at": "2026-11-20T08:00:00Z",
        "source_kind": "user_report",
        "reported_user": {"platform_id": "u-bidi", "name": f"Sam{OVERRIDE}noisrev", "screen_name": "\u2067x"},
    }
    posted = client.post(
        "/api/v1/cases",
        data={
            "case": json.dumps(case),
            "media": [(io.BytesIO(factories.png_bytes(1)), SPOOFED, "image/png")],
        },
        headers={"Authorization": f"Bearer {raw}"},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 201, posted.json
    case_id = posted.json["case_id"]

    auth.login("m@example.org")
    pages = {
        "case": client.get(f"/cases/{case_id}").text,
        "queue": client.get(f"/queues/{queue.id}").text,
        "user": client.get(f"/reported-users/{_reported_user_id(case_id)}").text,
    }
    for name, html in pages.items():
        assert OVERRIDE not in html and "\u2067" not in html, name
        assert "⟨U+202E⟩" in html, name
    case_page = pages["case"]
    assert '<bdi>invoice<span class="bidi-mark"' in case_page and "⟨U+202E⟩</span>gpj.exe</bdi>" in case_page
    assert 'aria-label="Reveal invoice⟨U+202E⟩gpj.exe"' in case_page
    assert "<bdi>Sam<span" in case_page and "⟨U+2067⟩" in case_page


def _reported_user_id(case_id: int) -> int:
    from console.cases.models import Case
    from console.extensions import db

    return db.session.get(Case, case_id).reported_user_id
