"""The reported user's IP events show their time the way every other time on the case page is shown."""

from __future__ import annotations

from tests import factories


def test_an_ip_event_time_reads_like_the_other_times_not_raw_iso(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    c = factories.case(
        factories.queue(),
        reported_user={
            "platform_id": "u-9",
            "name": "Rex Reported",
            # As the API and the demo data store it: UTC, ISO 8601, microseconds included.
            "ip_events": [{"ip": "203.0.113.9", "at": "2026-11-24T06:05:04.123456+00:00", "event": "Login"}],
        },
    )
    auth.login("m@example.org")
    html = client.get(f"/cases/{c.id}").text
    assert (
        '<time datetime="2026-11-24T06:05:04.123456Z" title="2026-11-24 06:05 UTC" data-local>'
        "2026-11-24 06:05 UTC</time>" in html
    )
    reported = c.reported_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f'title="{reported}" data-local>{reported}</time>' in html  # the same format as the report time
    assert ">2026-11-24T06:05" not in html
