"""The words and times every page uses (console/webutil.py, console/timeutil.py, the incident-type label)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from console.ncmec import IncidentType
from console.reporting import incident_label
from console.webutil import hash_groups, plural, when


def test_a_time_is_one_time_element_in_utc_whatever_it_came_as():
    moment = datetime(2026, 12, 1, 16, 24, 28, 910784, tzinfo=UTC)
    for value in (
        moment,
        "2026-12-01T16:24:28.910784+00:00",
        "2026-12-01T16:24:28.910784Z",
        moment.astimezone(timezone(timedelta(hours=-5))),
        "2026-12-01T11:24:28.910784-05:00",
    ):
        html = str(when(value))
        assert html == (
            '<time datetime="2026-12-01T16:24:28.910784Z" title="2026-12-01 16:24 UTC" data-local>'
            "2026-12-01 16:24 UTC</time>"
        ), value
    assert str(when(None)) == "—" and str(when("")) == "—"
    assert str(when("soon <b>")) == "soon &lt;b&gt;"  # not a time: shown as it is, escaped


def test_plurals_agree_with_their_count():
    assert plural(1, "hash", "hashes") == "1 hash"
    assert plural(0, "hash", "hashes") == "0 hashes"
    assert plural(2, "report") == "2 reports"


def test_a_hash_breaks_only_between_its_groups():
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    html = str(hash_groups(digest, 16))
    assert html.replace("<wbr>", "") == digest
    assert [len(g) for g in html.split("<wbr>")] == [16, 16, 16, 16]
    assert str(hash_groups("<x>")) == "&lt;x&gt;"


def test_one_label_per_incident_type():
    assert incident_label(IncidentType.CHILD_PORNOGRAPHY.value) == IncidentType.CHILD_PORNOGRAPHY.label
    assert incident_label("Something NCMEC added later") == "Something NCMEC added later"
    assert all(re.fullmatch(r"[A-Z][a-z ,()A-Z-]+", t.label) for t in IncidentType)
