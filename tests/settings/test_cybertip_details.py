"""An admin sets what every CyberTip says about the company, maps content types, and lets a rule escalate."""

from __future__ import annotations

from sqlalchemy import select

from console.audit import AuditEvent
from console.cases.models import ContentTypeKind
from console.extensions import db
from console.policies.models import Policy
from console.reporting import agencies
from console.reporting.models import ReportingRule
from tests.settings.helpers import PAGE, admin_world, rule_data

DETAILS = "/settings/cybertip-details"


def test_an_admin_saves_the_companys_legal_details_and_law_enforcement_contact(ctx, client, auth):
    admin_world()
    auth.login("admin@example.org")
    page = client.get(DETAILS)
    assert page.status_code == 200 and "CyberTip details" in page.text
    assert "CyberTip details" in client.get("/settings/").text

    saved = auth.post(
        f"{DETAILS}/reporter",
        {
            "company_template": "Example Platform, Inc.\n1 Main St",
            "terms_of_service": "3.2 No sexualisation of minors.",
            "legal_url": "https://example.com/legal",
            "le_contact_first_name": "Lee",
            "le_contact_last_name": "Desk",
            "le_contact_email": "le@example.com",
            "le_contact_phone": "+1 555 0100",
        },
        token_from=DETAILS,
    )
    assert saved.status_code == 302
    agency = agencies.ncmec()
    db.session.refresh(agency)
    assert agency.company_template == "Example Platform, Inc.\n1 Main St"
    assert agency.legal_url == "https://example.com/legal" and agency.le_contact_phone == "+1 555 0100"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "agency_reporter_details_changed")
    )
    assert event is not None and "Example Platform" in str(event.details)

    # Checked as NCMEC takes them: a URL with a space, a name too long, a contact nobody can reach.
    refused = auth.post(
        f"{DETAILS}/reporter", {"legal_url": "https://example.com/le gal"}, token_from=DETAILS
    )
    assert refused.status_code == 422 and "whitespace" in refused.text
    refused = auth.post(f"{DETAILS}/reporter", {"le_contact_first_name": "L" * 101}, token_from=DETAILS)
    assert refused.status_code == 422 and "100 characters" in refused.text
    refused = auth.post(f"{DETAILS}/reporter", {"le_contact_first_name": "Lee"}, token_from=DETAILS)
    assert refused.status_code == 422 and "an email or phone number" in refused.text
    db.session.refresh(agency)
    assert agency.legal_url == "https://example.com/legal"


def test_an_admin_maps_content_types_and_sets_policy_annotations(ctx, client, auth):
    _admin, policies, _ai, _other = admin_world()
    auth.login("admin@example.org")
    assert auth.post(f"{DETAILS}/content-types", {"platform_type": "DM", "kind": "chat"}).status_code == 302
    assert auth.post(f"{DETAILS}/content-types", {"platform_type": "dm", "kind": "email"}).status_code == 302
    [mapping] = db.session.scalars(select(ContentTypeKind)).all()
    assert (mapping.platform_type, mapping.kind) == ("dm", "email")
    assert "Email" in client.get(DETAILS).text
    refused = auth.post(f"{DETAILS}/content-types", {"platform_type": "x", "kind": "carrier-pigeon"})
    assert refused.status_code == 422
    assert auth.post(f"{DETAILS}/content-types/{mapping.id}/delete").status_code == 302
    assert db.session.scalars(select(ContentTypeKind)).all() == []

    sextortion = policies["sextortion"]
    saved = auth.post(
        f"{DETAILS}/policies/{sextortion.id}/annotations",
        {"annotations": ["sextortion", "minorToMinorInteraction"]},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Policy, sextortion.id).ncmec_report_annotations == [
        "sextortion",
        "minorToMinorInteraction",
    ]
    assert (
        auth.post(
            f"{DETAILS}/policies/{sextortion.id}/annotations", {"annotations": ["nonsense"]}
        ).status_code
        == 400
    )


def test_a_rule_escalates_by_confidence_and_policy_with_a_reason(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    data = rule_data(
        policies,
        ai_queue,
        contact_phone="+1 555 0199",
        escalate_min_confidence="95",
        escalation_policies=[str(policies["sextortion"].id)],
        escalation_reason="",
    )
    refused = auth.post(f"{PAGE}/rules", data, token_from=PAGE)
    assert refused.status_code == 422 and "NCMEC needs the reason" in refused.text
    data["escalation_reason"] = "Imminent danger to a child."
    assert auth.post(f"{PAGE}/rules", data, token_from=PAGE).status_code == 302
    rule = db.session.scalar(select(ReportingRule))
    assert rule.contact_phone == "+1 555 0199" and rule.escalate_min_confidence == 0.95
    assert [p.slug for p in rule.escalation_policies] == ["sextortion"]
    assert rule.escalation_reason == "Imminent danger to a child."
    # The edit form shows them again.
    form = client.get(f"{PAGE}/rules/{rule.id}/edit").text
    assert 'value="95' in form and "Imminent danger to a child." in form
    assert f'id="escalation-policy-{policies["sextortion"].id}" checked' in form
    too_sure = auth.post(
        f"{PAGE}/rules/{rule.id}", {**data, "escalate_min_confidence": "150"}, token_from=PAGE
    )
    assert too_sure.status_code == 422 and "from 0 to 100" in too_sure.text
