"""pytest plugin with a running CyberTipline simulator; the main conftest loads it through
``pytest_plugins = ["tests.ncmec_fixtures"]``.

``ncmec_simulator`` is a fresh simulator per test (in-memory store, no faults), served over real HTTP on a
free localhost port; ``ncmec_client`` is a client for it with short timeouts. ``sample_report`` and
``sample_file_details`` build valid documents to adjust with ``dataclasses.replace``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from console.ncmec import (
    CyberTiplineClient,
    FileDetails,
    FileRelevance,
    IncidentSummary,
    IncidentType,
    IpCaptureEvent,
    IpCaptureEventName,
    Person,
    PersonOrUserReported,
    Report,
    Reporter,
    WebPageIncident,
)
from simulator import SimulatorServer, serve_in_thread

SIMULATOR_USERNAME = "esp-test"
SIMULATOR_PASSWORD = "test-password"  # noqa: S105 - the local simulator's test credential


@pytest.fixture
def ncmec_simulator() -> Iterator[SimulatorServer]:
    server = serve_in_thread(username=SIMULATOR_USERNAME, password=SIMULATOR_PASSWORD)
    try:
        yield server
    finally:
        server.clear_faults()
        server.shutdown()


@pytest.fixture
def ncmec_client(ncmec_simulator: SimulatorServer) -> CyberTiplineClient:
    return CyberTiplineClient(
        ncmec_simulator.base_url,
        ncmec_simulator.username,
        ncmec_simulator.password,
        connect_timeout=2,
        read_timeout=2,
    )


def wait_until_idle(simulator: SimulatorServer, seconds: float = 10) -> None:
    """Until the simulator is handling no call: a delayed or timed-out one lands after its client gave up."""
    deadline = time.monotonic() + seconds
    while simulator.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert simulator.stats()["in_flight"] == 0, f"the simulator still handles a call after {seconds} s"


def sample_report(incident_type: IncidentType = IncidentType.CHILD_PORNOGRAPHY) -> Report:
    return Report(
        incident_summary=IncidentSummary(
            incident_type=incident_type,
            incident_date_time=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            incident_date_time_description="Time the user report was received",
        ),
        internet_details=[WebPageIncident(urls=["https://example.test/p/123"])],
        reporter=Reporter(
            reporting_person=Person(first_name="Rita", last_name="Reporter", emails=["tns@example.test"]),
            company_template="Example Platform, Inc.",
        ),
        persons_or_users_reported=[
            PersonOrUserReported(
                person=Person(emails=["suspect@example.test"]),
                esp_identifier="user-42",
                screen_name="suspect42",
                display_names=["Suspect Forty-Two"],
                ip_capture_events=[
                    IpCaptureEvent(
                        ip_address="203.0.113.7",
                        event_name=IpCaptureEventName.UPLOAD,
                        date_time=datetime(2026, 11, 20, 7, 59, tzinfo=UTC),
                        port=443,
                    )
                ],
            )
        ],
    )


def sample_file_details(report_id: str, file_id: str, *, viewed: bool) -> FileDetails:
    return FileDetails(
        report_id=report_id,
        file_id=file_id,
        file_viewed_by_esp=viewed,
        original_file_name="upload.jpg",
        uploaded_to_esp_timestamp=datetime(2026, 11, 20, 7, 59, tzinfo=UTC),
        publicly_available=False,
        file_relevance=FileRelevance.REPORTED,
    )
