"""Hash bank jobs. Thin: an app context, then the hash bank's functions, with ids only."""

from __future__ import annotations

from jobs import app_context


def match_media(media_id: int) -> bool:
    """PDQ of an image too large to decode in the request, then matching it against the bank."""
    from console.hashbank import matching

    with app_context():
        return matching.match_media(media_id)


def bank_report(report_id: int) -> bool:
    """Bank a finished report's hashes: a follow-up of its finish, once per report (the banking and the
    follow-up's "done" in one transaction, console/reporting/follow_ups.py)."""
    from console.hashbank import bank
    from console.reporting import follow_ups

    with app_context():
        return follow_ups.run_once(report_id, bank.BANK_JOB, lambda rid: bank.bank_report(rid) and [])


def sweep() -> int:
    """Bank the finished reports the finish hook did not, and the PDQ of banked images without one."""
    from console.hashbank import bank

    with app_context():
        return bank.sweep()
