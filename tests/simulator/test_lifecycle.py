"""Report state over time: unfinished reports expire as NCMEC's do, when the simulator is told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator import serve_in_thread

from .conftest import PASSWORD, USERNAME, Esp, code


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _simulator(clock: Clock, *, expire: bool):
    return serve_in_thread(username=USERNAME, password=PASSWORD, expire_unfinished=expire, clock=clock)


def test_a_report_never_finished_is_gone_24_hours_after_it_was_opened(clock):
    with _simulator(clock, expire=True) as sim:
        esp = Esp(sim)
        report_id = esp.open_report()
        clock.advance(hours=24, seconds=1)

        assert code(esp.finish(report_id)) == 5001
        assert code(esp.upload(report_id)) == 5001
        assert sim.report(report_id)["state"] == "expired"
        assert sim.reports("open") == []


def test_a_late_change_keeps_a_report_for_an_hour_after_it(clock):
    with _simulator(clock, expire=True) as sim:
        esp = Esp(sim)
        report_id = esp.open_report()
        clock.advance(hours=23, minutes=30)
        esp.add_file(report_id)  # the deadline moves to 24 h 30 min after opening
        clock.advance(minutes=50)

        response = esp.finish(report_id)

        assert code(response) == 0
        assert sim.report(report_id)["state"] == "finished"


def test_an_hour_idle_is_not_enough_within_the_first_day(clock):
    with _simulator(clock, expire=True) as sim:
        esp = Esp(sim)
        report_id = esp.open_report()
        clock.advance(hours=2)

        assert code(esp.finish(report_id)) == 0


def test_a_finished_report_never_expires(clock):
    with _simulator(clock, expire=True) as sim:
        esp = Esp(sim)
        report_id = esp.open_report()
        esp.finish(report_id)
        clock.advance(days=30)

        assert code(esp.finish(report_id)) == 5102
        assert sim.report(report_id)["state"] == "finished"


def test_without_expiry_an_open_report_waits_forever(clock):
    with _simulator(clock, expire=False) as sim:
        esp = Esp(sim)
        report_id = esp.open_report()
        clock.advance(days=3)

        assert code(esp.finish(report_id)) == 0


def test_a_stored_database_keeps_reports_across_restarts(tmp_path):
    db = tmp_path / "sim.sqlite"
    with serve_in_thread(username=USERNAME, password=PASSWORD, store_path=db) as first:
        report_id = Esp(first).open_report()
    with serve_in_thread(username=USERNAME, password=PASSWORD, store_path=db) as second:
        assert code(Esp(second).finish(report_id)) == 0
