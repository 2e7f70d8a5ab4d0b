"""The pages: the agency under Settings → External reporting (the token never shown, Test connection, the
mapping warning), the mapping page, the statements page with Resend, the case's section, the transparency
figures; admins only."""

from __future__ import annotations

from console.extensions import db
from console.sor import agency as agencies
from tests import factories
from tests.sor.conftest import TOKEN, decide_spam, eu_case, setup_world
from tests.sor.helpers import one, run_jobs


def test_the_agency_is_preloaded_off_and_an_admin_connects_it(ctx, client, auth, standin):
    admin = factories.user("admin", email="ada@example.org")
    auth.login(admin.email)
    page = client.get("/settings/external-reporting")
    assert "EU DSA Transparency Database" in page.text and ">off<" in page.text
    answer = auth.post(
        "/settings/external-reporting/dsa/sandbox",
        {"base_url": standin.base_url, "token": TOKEN},
        token_from="/settings/external-reporting",
    )
    assert answer.status_code == 302
    env = agencies.environment("sandbox")
    assert (
        env.base_url == standin.base_url and env.token_encrypted and TOKEN.encode() not in env.token_encrypted
    )
    db.session.rollback()
    page = client.get("/settings/external-reporting")
    assert TOKEN not in page.text and "A token is stored (encrypted)" in page.text
    auth.post("/settings/external-reporting/dsa/sandbox/test", token_from="/settings/external-reporting")
    page = client.get("/settings/external-reporting")
    assert "answered pong" in page.text
    auth.post(
        "/settings/external-reporting/dsa",
        {"environment": "sandbox", "countries": "FR DE IT", "enabled": "on"},
        token_from="/settings/external-reporting",
    )
    db.session.rollback()
    agency = agencies.agency()
    assert agency.enabled and agency.countries == ["DE", "FR", "IT"]


def test_a_wrong_url_or_token_is_refused_by_name(ctx, client, auth, standin):
    admin = factories.user("admin", email="ada@example.org")
    auth.login(admin.email)
    auth.post(
        "/settings/external-reporting/dsa/production",
        {"base_url": "http://transparency.example", "token": TOKEN},
        token_from="/settings/external-reporting",
    )
    page = client.get("/settings/external-reporting")
    assert "https" in page.text and not agencies.environment("production").configured
    db.session.rollback()
    auth.post(
        "/settings/external-reporting/dsa/sandbox",
        {"base_url": standin.base_url, "token": "not-a-token"},
        token_from="/settings/external-reporting",
    )
    assert "12|abc" in client.get("/settings/external-reporting").text
    auth.post(
        "/settings/external-reporting/dsa",
        {"environment": "sandbox", "countries": "FR US", "enabled": "on"},
        token_from="/settings/external-reporting",
    )
    text = client.get("/settings/external-reporting").text
    assert "Not a country the service knows: US" in text
    db.session.rollback()
    assert not agencies.agency().enabled


def test_the_mapping_page_warns_of_what_is_incomplete_and_saves_a_policy(ctx, client, auth, standin):
    world = setup_world(ctx, standin, mapped=False)
    auth.login(world["admin"].email)
    settings = client.get("/settings/external-reporting").text
    assert "not completely mapped" in settings
    page = client.get("/settings/dsa-mapping").text
    assert "incomplete: no mapping" in page and "Remove content" in page
    spam = world["policies"]["spam"].id
    auth.post(
        f"/settings/dsa-mapping/policies/{spam}",
        {
            "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "ground": "illegal",
            "legal_ground": "Art. 6 UCPD",
            "explanation": "Misleading advertising.",
            "content_types": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"],
            "facts": "A misleading advertisement was removed.",
        },
        token_from="/settings/dsa-mapping",
    )
    from console.sor import mapping

    db.session.rollback()
    saved = mapping.policy_mapping(spam)
    assert saved.content_types == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_TEXT"]
    assert mapping.policy_problems(saved) == []
    refused = auth.post(
        f"/settings/dsa-mapping/policies/{spam}",
        {"category": "STATEMENT_CATEGORY_MADE_UP"},
        token_from="/settings/dsa-mapping",
    )
    assert refused.status_code == 302 and "unknown category" in client.get("/settings/dsa-mapping").text


def test_statements_page_case_section_and_transparency_figures(ctx, client, auth, standin, app):
    world = setup_world(ctx, standin)
    case = eu_case(world)
    decide_spam(world, case)
    run_jobs(app)
    row = one(case.id)
    db.session.rollback()
    auth.login(world["admin"].email)
    page = client.get("/statements-of-reasons").text
    assert row.puid in page and row.uuid in page and "Submitted" in page
    case_page = client.get(f"/cases/{case.id}").text
    assert "Statement of reasons (DSA)" in case_page and row.uuid in case_page
    figures = client.get("/transparency/").text
    assert "Statements of reasons (DSA) per month: 1" in figures and "Scams and/or fraud" in figures
    assert "Content incompatible with terms and conditions" in figures and "Not Automated" in figures


def test_moderators_get_403_and_posts_need_csrf(ctx, client, auth):
    mod = factories.user("moderator")
    auth.login(mod.email)
    for path in ("/statements-of-reasons", "/settings/dsa-mapping"):
        assert client.get(path).status_code == 403
    assert auth.post("/settings/external-reporting/dsa", {"enabled": "on"}).status_code == 403
    admin = factories.user("admin")
    auth.post("/logout")
    auth.login(admin.email)
    assert client.post("/settings/external-reporting/dsa", data={"enabled": "on"}).status_code == 400
