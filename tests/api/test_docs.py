"""The hand-written API docs name every field and source kind the code accepts."""

from pathlib import Path

from console.api import case_details, ingestion
from console.cases import kinds
from console.queues.models import SOURCE_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_name_every_field_and_source_kind():
    names = ingestion.FIELDS | set(ingestion.USER_FIELDS) | ingestion.AI_FIELDS | ingestion.IP_EVENT_FIELDS
    names |= set(SOURCE_KINDS)
    # What a case tells NCMEC beyond its content: kinds and their fields, a thread's messages, the people.
    names |= set(kinds.CONTENT_KINDS) | {f for fields in kinds.KIND_FIELDS.values() for f in fields}
    names |= case_details.MESSAGE_FIELDS | set(case_details.ACCOUNT_FIELDS) | set(case_details.VICTIM_FIELDS)
    for doc in ("api.md", "openapi.yaml"):
        text = (DOCS / doc).read_text()
        assert [n for n in sorted(names) if n not in text] == [], doc
