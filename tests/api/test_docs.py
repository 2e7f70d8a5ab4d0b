"""The hand-written API docs name every field and source kind the code accepts."""

from pathlib import Path

from console.api import ingestion
from console.queues.models import SOURCE_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_name_every_field_and_source_kind():
    names = ingestion.FIELDS | set(ingestion.USER_FIELDS) | ingestion.AI_FIELDS | ingestion.IP_EVENT_FIELDS
    names |= set(SOURCE_KINDS)
    for doc in ("api.md", "openapi.yaml"):
        text = (DOCS / doc).read_text()
        assert [n for n in sorted(names) if n not in text] == [], doc
