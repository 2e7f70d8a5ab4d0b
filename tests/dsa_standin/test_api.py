"""The stand-in answers as API.md says the service does: status codes, JSON shapes, PUID and batch rules,
normalisation, quirks and rate limits, over raw HTTP."""

from __future__ import annotations

import re
import time

import requests

from .conftest import NO_PLATFORM_TOKEN, OTHER_TOKEN, Sender, sor


def test_no_token_or_an_unknown_one_is_unauthenticated_whatever_the_accept(standin):
    for sender in (Sender(standin, None), Sender(standin, "1|unknown")):
        for accept in (True, False):
            answer = sender.post("/api/v1/statement", sor(), accept=accept)
            assert answer.status_code == 401 and answer.json() == {"message": "Unauthenticated."}
    assert Sender(standin, None).get("/api/ping").status_code == 401


def test_a_user_without_a_platform_may_ping_but_not_create(standin):
    sender = Sender(standin, NO_PLATFORM_TOKEN)

    assert sender.get("/api/ping").json() == {"you_say": "ping", "i_say": "pong"}
    answer = sender.one(sor())
    assert answer.status_code == 403 and answer.json() == {"message": "This action is unauthorized."}


def test_a_created_statement_is_answered_as_stored(platform):
    answer = platform.one(sor(" post-1 ", content_id={"EAN-13": "4006381333931"}))

    assert answer.status_code == 201
    body = answer.json()
    assert body["puid"] == "post-1"  # trimmed
    assert isinstance(body["id"], int) and re.fullmatch(r"[0-9a-f-]{36}", body["uuid"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", body["created_at"])
    assert body["platform_name"] == "Platform A"
    assert body["permalink"] == f"{platform.server.base_url}/statement/{body['uuid']}"
    assert body["self"] == f"{platform.server.base_url}/api/v1/statement/{body['uuid']}"
    assert body["territorial_scope"] == ["DE", "FR"]
    assert body["end_date_account_restriction"] is None and body["content_date"] == "2026-11-20"
    assert body["content_id_ean"] == "4006381333931"


def test_the_single_endpoint_tidies_a_valid_statement_before_storing(platform):
    statement = sor(
        content_type=["CONTENT_TYPE_VIDEO", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO"],
        category_addition=["STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_VIOLENCE"],
        territorial_scope=["FR", "DE", "FR"],
        decision_visibility_other="Not asked for: dropped.",
        source_type="SOURCE_VOLUNTARY",
        source_identity="Dropped for the platform's own initiative.",
        incompatible_content_illegal="Yes",
    )

    body = platform.one(statement).json()

    assert body["content_type"] == ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO"]
    assert body["category_addition"] == ["STATEMENT_CATEGORY_VIOLENCE"]
    assert body["territorial_scope"] == ["DE", "FR"]
    for dropped in ("decision_visibility_other", "source_identity", "incompatible_content_illegal"):
        assert dropped not in body


def test_a_refusal_lists_every_field_with_the_first_message_summed_up(platform):
    answer = platform.one({})

    assert answer.status_code == 422
    body = answer.json()
    assert len(body["errors"]) == 14 and "territorial_scope" not in body["errors"]
    assert body["message"] == body["errors"]["decision_visibility"][0] + " (and 13 more errors)"
    one = platform.one(sor(content_language="en")).json()
    assert one == {
        "message": "The selected content language is invalid.",
        "errors": {"content_language": ["The selected content language is invalid."]},
    }
    two = platform.one(sor(content_language="en", puid="a b")).json()
    assert two["message"] == "The selected content language is invalid. (and 1 more error)"


def test_a_body_not_sent_as_json_is_not_read(platform):
    answer = requests.post(
        f"{platform.server.base_url}/api/v1/statement",
        data=str(sor()),
        headers={**platform.headers(), "Content-Type": "text/plain"},
        timeout=10,
    )

    assert answer.status_code == 422 and len(answer.json()["errors"]) == 14


def test_without_accept_a_refusal_is_a_redirect(platform):
    answer = platform.one({}, accept=False)

    assert answer.status_code == 302 and answer.headers["Location"].startswith(platform.server.base_url)
    assert platform.many([], accept=False).status_code == 302


def test_empty_strings_count_as_missing_and_strings_are_trimmed(platform):
    answer = platform.one(sor(decision_facts="   ", category=""))

    assert set(answer.json()["errors"]) == {"decision_facts", "category"}
    assert platform.one(sor(category=" STATEMENT_CATEGORY_VIOLENCE ")).json()["category"] == (
        "STATEMENT_CATEGORY_VIOLENCE"
    )


def test_a_used_puid_is_refused_on_both_endpoints_for_ever(platform):
    assert platform.one(sor("post-1")).status_code == 201

    single = platform.one(sor("post-1"))
    batch = platform.many([sor("post-2"), sor("post-1")])

    assert single.status_code == 422
    assert single.json() == {
        "message": "The identifier given is not unique within this platform.",
        "errors": {"puid": ["The identifier given is not unique within this platform."]},
        "existing": {"puid": "post-1"},
    }
    assert batch.status_code == 422
    assert batch.json() == {
        "message": "The platform identifier(s) are not all unique within this call.",
        "errors": {
            "puid": ["The platform identifier(s) are not all unique within this call."],
            "existing_puids": ["post-1"],
        },
    }
    assert len(platform.server.statements()) == 1  # post-2 was not stored either


def test_puids_are_unique_per_platform(standin, platform):
    other = Sender(standin, OTHER_TOKEN)

    assert platform.one(sor("post-1")).status_code == 201
    assert other.one(sor("post-1")).status_code == 201
    assert other.lookup("post-2").status_code == 404
    assert platform.one(sor("post-2")).status_code == 201
    assert other.lookup("post-2").status_code == 404
    assert platform.lookup("post-2").status_code == 302


def test_the_lookup_answers_302_without_location_or_404(platform):
    platform.many([sor("post-1")])

    found = platform.lookup("post-1")
    missing = platform.lookup("post-9")

    assert found.status_code == 302 and "Location" not in found.headers
    assert found.json() == {"message": "statement of reason found", "puid": "post-1"}
    assert missing.status_code == 404
    assert missing.json() == {"message": "statement of reason not found", "puid": "post-9"}


def test_the_statements_rule_comes_first(platform):
    assert platform.post("/api/v1/statements", {}).json() == {
        "message": "The statements field is required.",
        "errors": {"statements": ["The statements field is required."]},
    }
    too_many = platform.many([sor(f"post-{i}") for i in range(101)])
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == {
        "statements": ["The statements field must have between 1 and 100 items."]
    }
    assert platform.server.statements() == []


def test_a_batch_refusal_names_each_failing_statement_by_position_without_a_message(platform):
    answer = platform.many([sor("post-1"), sor("post-2", category="X"), sor("a b")])

    assert answer.status_code == 422
    assert answer.json() == {
        "errors": {
            "statement_1": {"category": ["The selected category is invalid."]},
            "statement_2": {"puid": ["The puid format is invalid."]},
        }
    }
    assert platform.server.statements() == []


def test_a_puid_twice_in_one_call_is_refused_and_numbers_come_back_as_numbers(platform):
    answer = platform.many([sor("123"), sor("post-1"), sor("123"), sor("post-1")])

    assert answer.json()["errors"]["existing_puids"] == [123, "post-1"]
    assert platform.server.statements() == []


def test_a_stored_batch_is_answered_in_order_with_every_field(platform):
    answer = platform.many([sor("post-2"), sor("post-1", content_id={"EAN-13": "4006381333931"})])

    assert answer.status_code == 201
    first, second = answer.json()["statements"]
    assert [first["puid"], second["puid"]] == ["post-2", "post-1"]
    assert first["created_at"] == second["created_at"]
    assert "id" not in first and "content_id" not in second and second["content_id_ean"] == "4006381333931"
    assert first["decision_monetary"] is None and first["category_addition"] == []
    assert first["end_date_visibility_restriction"] is None and first["content_id_ean"] is None


def test_the_batch_nulls_the_notifier_of_an_own_initiative_and_an_unasked_keyword_text(platform):
    answer = platform.many(
        [sor(source_type="SOURCE_VOLUNTARY", source_identity="x", category_specification_other="y")]
    )

    [stored] = answer.json()["statements"]
    assert stored["source_identity"] is None and stored["category_specification_other"] is None


def test_the_stored_statement_never_shows_its_puid_or_id(platform):
    uuid = platform.one(sor()).json()["uuid"]

    shown = platform.get(f"/api/v1/statement/{uuid}").json()

    assert shown["uuid"] == uuid and "puid" not in shown and "id" not in shown
    assert platform.get("/api/v1/statement/not-a-uuid").status_code == 404


def test_there_is_no_version_2(platform):
    answer = platform.post("/api/v2/statement", sor())

    assert answer.status_code == 404 and platform.server.statements() == []


def test_quirks_the_service_accepts(platform):
    # The literal "null" in the nullable enumerations, an object where an array goes.
    assert platform.one(sor("post-1", decision_monetary="null")).status_code == 201
    assert platform.one(sor("post-2", content_type={"x": "CONTENT_TYPE_TEXT"})).status_code == 201
    # incompatible_content_illegal: not nullable with its ground, ignored with the other one.
    incompatible = {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms §3",
        "incompatible_content_explanation": "Spam.",
    }
    refused = platform.one(sor("post-3", **incompatible, incompatible_content_illegal=None))
    assert refused.status_code == 422 and "incompatible_content_illegal" in refused.json()["errors"]
    assert platform.one(sor("post-4", incompatible_content_illegal=None)).status_code == 201
    assert platform.one(sor("post-5", category_addition=None)).status_code == 422


def test_an_array_in_a_free_text_field_fails_at_storage(platform):
    answer = platform.one(sor(decision_facts=["not", "text"]))

    assert answer.status_code == 500 and answer.json() == {"message": "Server Error"}
    assert platform.server.statements() == []


def test_the_rate_limit_answers_429_in_plain_text_with_retry_after(standin, platform):
    standin.set_limits(per_second=2, per_minute=50, anonymous_per_minute=1)
    # A success reports the last of the limits (the minute's), as the framework does with several.
    assert platform.get("/api/ping").headers["X-RateLimit-Limit"] == "50"
    platform.get("/api/ping")

    limited = platform.get("/api/ping")

    assert limited.status_code == 429 and limited.text == "Limit Reached. Please do not overload the API"
    assert limited.headers["Retry-After"] == "1" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert Sender(standin, None).get("/api/ping").status_code == 401
    assert Sender(standin, None).get("/api/ping").status_code == 429  # per IP without a token
    time.sleep(1.05)
    assert platform.get("/api/ping").status_code == 200
