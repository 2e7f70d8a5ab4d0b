"""Acceptance: a complete report with two media files, filed over HTTP, arrives at the simulator intact."""

from __future__ import annotations

import hashlib

from console.ncmec import IncidentType, build_file_details_xml, build_report_xml
from tests.ncmec_fixtures import sample_file_details, sample_report


def test_file_a_complete_report_with_two_files(ncmec_simulator, ncmec_client, tmp_path):
    viewed_path = tmp_path / "viewed.jpg"
    unviewed_path = tmp_path / "unviewed.mp4"
    viewed_path.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 40)
    unviewed_path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01\x02" * 5000)

    # The moderator confirmed; the job files the report step by step.
    report_id = ncmec_client.submit(build_report_xml(sample_report(IncidentType.CHILD_PORNOGRAPHY)))
    viewed = ncmec_client.upload(report_id, viewed_path)
    unviewed = ncmec_client.upload(report_id, unviewed_path, filename="clip.mp4")
    ncmec_client.fileinfo(build_file_details_xml(sample_file_details(report_id, viewed.file_id, viewed=True)))
    ncmec_client.fileinfo(
        build_file_details_xml(sample_file_details(report_id, unviewed.file_id, viewed=False))
    )
    finished = ncmec_client.finish(report_id)

    assert finished.report_id == report_id
    assert set(finished.file_ids) == {viewed.file_id, unviewed.file_id}

    # What NCMEC received, read back from the simulator's store.
    received = ncmec_simulator.report(report_id)
    assert received["state"] == "finished"
    assert received["incident_type"] == "Child Pornography (possession, manufacture, and distribution)"
    assert received["reporting_person"] == {
        "first_name": "Rita",
        "last_name": "Reporter",
        "email": "tns@example.test",
        "phone": None,
    }
    [user] = received["reported_users"]
    assert user["esp_identifier"] == "user-42"
    assert user["screen_name"] == "suspect42"
    assert user["emails"] == ["suspect@example.test"]
    assert user["ip_addresses"] == ["203.0.113.7"]
    assert received["urls"] == ["https://example.test/p/123"]

    files = {f["file_id"]: f for f in received["files"]}
    assert len(files) == 2
    assert files[viewed.file_id]["md5"] == hashlib.md5(viewed_path.read_bytes()).hexdigest()  # noqa: S324
    assert files[unviewed.file_id]["md5"] == hashlib.md5(unviewed_path.read_bytes()).hexdigest()  # noqa: S324
    assert viewed.md5 == files[viewed.file_id]["md5"]
    assert files[viewed.file_id]["filename"] == "viewed.jpg"
    assert files[unviewed.file_id]["filename"] == "clip.mp4"
    assert files[viewed.file_id]["size"] == viewed_path.stat().st_size
    assert files[viewed.file_id]["file_viewed_by_esp"] is True
    assert files[unviewed.file_id]["file_viewed_by_esp"] is False
    assert all(f["details_received"] for f in files.values())

    assert ncmec_simulator.stats()["calls"] == {"submit": 1, "upload": 2, "fileinfo": 2, "finish": 1}
    assert len(ncmec_simulator.reports(state="finished")) == 1
