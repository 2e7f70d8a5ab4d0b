"""NCMEC's own XSD, and the check every received ``report`` and ``fileDetails`` document goes through.

The simulator reads the XSD vendored beside the console's client by path and never imports that client:
the two must be written independently, or the simulator would only prove that they agree.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

# Package data of console.ncmec in both an editable and a regular install; read as a file, not imported.
VENDORED_XSD = Path(__file__).resolve().parent.parent / "console" / "ncmec" / "xsd" / "cyber_tipline.xsd"


class DocumentRefused(Exception):
    """The body is not well-formed XML, carries a DOCTYPE, or breaks the schema; ``str()`` says why."""


def parse_untrusted(body: bytes) -> etree._Element:
    """Parse a received body without DTDs, entity expansion or network access; refuse any DOCTYPE.

    A fresh parser per call: lxml parsers keep an error log across calls, and these run on many threads.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        raise DocumentRefused(error.msg or "not well-formed XML") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # The real service runs Xerces with DOCTYPEs disallowed; entities are a way in, never needed here.
        raise DocumentRefused("DOCTYPE is disallowed")
    return root


class Schema:
    """One compiled XSD. lxml keeps the last validation's errors on the schema object, so a lock keeps
    one request's message from being replaced by another's."""

    def __init__(self, path: str | Path = VENDORED_XSD) -> None:
        self.path = Path(path)
        self.xsd = self.path.read_bytes()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self._schema = etree.XMLSchema(etree.fromstring(self.xsd, parser))
        self._lock = threading.Lock()

    def check(self, body: bytes, root_name: str) -> etree._Element:
        """The parsed document if it is a valid ``root_name``; else DocumentRefused with the first error."""
        root = parse_untrusted(body)
        if root.tag != root_name:
            # The XSD declares many global elements (fileDetails, incidentSummary...); each call takes one.
            raise DocumentRefused(f"Element '{root.tag}': expected the root element '{root_name}'.")
        with self._lock:
            if self._schema.validate(root):
                return root
            errors = list(self._schema.error_log)
        # Xerces stops at the first error and the service reports that one; report the same.
        raise DocumentRefused(errors[0].message if errors else "the document does not match the schema")


@cache
def load_schema(path: str | None = None) -> Schema:
    """The compiled schema for ``path`` (default: the vendored XSD), compiled once per process."""
    return Schema(Path(path) if path else VENDORED_XSD)
