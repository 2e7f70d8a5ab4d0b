"""What a developer sees: the received statements, one statement's page, and the JSON views."""

from __future__ import annotations

import requests

from .conftest import sor


def test_the_page_lists_received_statements_and_refusals(standin, platform):
    uuid = platform.one(sor("post-1")).json()["uuid"]
    platform.many([sor("post-2", category="STATEMENT_CATEGORY_VIOLENCE")])
    platform.one(sor("post-3", content_language="en"))

    page = requests.get(f"{standin.base_url}/", timeout=5).text

    assert "Statements of reasons received: 2" in page
    assert f'href="/statement/{uuid}"' in page and "post-2" in page and "STATEMENT_CATEGORY_VIOLENCE" in page
    assert "The selected content language is invalid." in page
    assert "7|" not in page  # never a token


def test_a_statements_permalink_is_its_page(standin, platform):
    created = platform.one(sor("post-1")).json()

    page = requests.get(created["permalink"], timeout=5)

    assert page.status_code == 200 and "post-1" in page.text and "Platform A" in page.text
    assert requests.get(f"{standin.base_url}/statement/unknown", timeout=5).status_code == 404


def test_the_json_views_filter_by_platform_and_puid(standin, platform):
    platform.many([sor("post-1"), sor("post-2")])

    rows = requests.get(
        f"{standin.base_url}/_standin/statements", params={"puid": "post-2"}, timeout=5
    ).json()
    other = requests.get(
        f"{standin.base_url}/_standin/statements", params={"platform": "B"}, timeout=5
    ).json()

    assert [row["puid"] for row in rows] == ["post-2"] and rows[0]["endpoint"] == "statements"
    assert other == []
    limits = requests.post(f"{standin.base_url}/_standin/limits", json={"per_second": 0}, timeout=5)
    assert limits.status_code == 400
