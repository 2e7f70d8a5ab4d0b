"""Admins read what changed, newest first, 50 at a time."""

from __future__ import annotations

import re

from console import audit
from console.extensions import db
from tests import factories
from tests.settings.helpers import admin_world, make_rule

LOG = "/settings/audit-log"


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="num">(\d+)</td>', html)]


def test_audit_log_lists_rule_changes_with_who_and_before_after(ctx, client, auth):
    admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue, name="Old name")
    auth.login("admin@example.org")
    from console.reporting.models import ReportingRule
    from console.settings import service

    rule = db.session.scalar(db.select(ReportingRule))
    service.set_rule_enabled(rule.id, False, actor=admin)
    page = client.get(LOG)
    assert page.status_code == 200
    assert "reporting rule created" in page.text and "reporting rule paused" in page.text
    assert "Ada Admin" in page.text and "enabled=False" in page.text and "Old name" in page.text


def test_keyset_pagination_and_filter(ctx, client, auth):
    admin_world()
    for i in range(60):
        audit.record("case_opened", "case", i, actor_label="api:test")
    for i in range(3):
        audit.record("reporting_rule_created", "reporting_rule", i, actor_label="cli")
    db.session.commit()
    auth.login("admin@example.org")  # adds a "signed_in" event

    first = client.get(LOG).text
    first_ids = ids_on(first)
    assert len(first_ids) == 50 and first_ids == sorted(first_ids, reverse=True)
    older = re.search(r'href="(/settings/audit-log\?before=\d+)"', first).group(1)
    second = client.get(older, headers={"HX-Request": "true"}).text
    second_ids = ids_on(second)
    assert "<html" not in second and 'id="audit-table"' in second
    assert len(second_ids) == 64 - 50 and max(second_ids) < min(first_ids)
    assert "Older events" not in second

    rules_only = client.get(f"{LOG}?type=reporting_rule").text
    assert len(ids_on(rules_only)) == 3 and "case opened" not in rules_only
    assert client.get(f"{LOG}?type=nonsense").status_code == 200  # an unknown filter shows everything


def test_audit_log_is_for_admins(ctx, client, auth):
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    assert client.get(LOG).status_code == 403


def test_the_object_column_reads_as_words(ctx, client, auth):
    """ "Case #9" once, not "Case 9 · case #9"; "Hash list #5", not "hash_source 5"."""
    admin_world()
    case = factories.case(factories.queue())
    audit.record("case_opened", "case", case.id, actor_label="api:test", case_id=case.id)
    audit.record("hash_list_imported", "hash_source", 5, actor_label="cli")
    audit.record("webhook_endpoint_saved", "webhook_endpoint", 2, actor_label="cli")
    db.session.commit()
    auth.login("admin@example.org")
    page = client.get(LOG).text
    assert f">Case #{case.id}</a>" in page and f"Case {case.id} · case #{case.id}" not in page
    assert "Hash list #5" in page and "hash_source 5" not in page
    assert "Webhook endpoint #2" in page
