"""The hand-written API docs name every field and source kind the code accepts."""

from pathlib import Path

from console.api import case_details, ingestion, platform_details
from console.cases import kinds
from console.queues.models import SOURCE_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_name_every_field_and_source_kind():
    names = ingestion.FIELDS | set(ingestion.USER_FIELDS) | ingestion.AI_FIELDS
    # What the platform knows about its user and each file (the same rules for any answer of the platform's).
    names |= platform_details.USER_DETAIL_FIELDS | platform_details.IP_EVENT_FIELDS
    names |= (
        platform_details.DEVICE_FIELDS | platform_details.ADDRESS_FIELDS | platform_details.LOCATION_FIELDS
    )
    names |= platform_details.ACCOUNT_FIELDS | platform_details.FILE_DETAIL_FIELDS
    names |= case_details.LAW_ENFORCEMENT_FIELDS | set(case_details.OFFICER_FIELDS)
    names |= set(SOURCE_KINDS)
    # What a case tells NCMEC beyond its content: kinds and their fields, a thread's messages, the people.
    names |= set(kinds.CONTENT_KINDS) | {f for fields in kinds.KIND_FIELDS.values() for f in fields}
    names |= case_details.MESSAGE_FIELDS | set(case_details.ACCOUNT_FIELDS) | set(case_details.VICTIM_FIELDS)
    for doc in ("api.md", "openapi.yaml"):
        text = (DOCS / doc).read_text()
        assert [n for n in sorted(names) if n not in text] == [], doc
