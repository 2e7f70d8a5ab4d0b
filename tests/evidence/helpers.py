"""Finished reports, filed through the pipeline against the simulator as a worker would."""

from __future__ import annotations

from console.cases import service as cases
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.reporting import filing, pipeline
from console.reporting.models import ExternalReport
from tests import factories
from tests.reporting.helpers import reporting_setup, run_follow_ups

CSAM = "Child Pornography (possession, manufacture, and distribution)"
FAST = {
    "NCMEC_CONNECT_TIMEOUT": 1,
    "NCMEC_READ_TIMEOUT": 2,
    "REPORT_RETRY_BASE_SECONDS": 0,
    "REPORT_RETRY_MAX_SECONDS": 0,
}


class World:
    """NCMEC connected to the simulator, one enabled rule, and an admin."""

    def __init__(self, simulator):
        self.simulator = simulator
        self.policies, self.review, self.rule = reporting_setup(simulator)
        self.admin = factories.user("admin", email="admin@example.org", name="Ada Admin")
        self.moderator = factories.user("moderator")

    def finished_report(self, *, images: int = 2, reported_user: dict | None = None) -> ExternalReport:
        """A case with `images` files, one revealed, filed and driven to finished (evidence preserved)."""
        case = factories.case(self.review, images=images, reported_user=reported_user)
        if images:
            cases.reveal(case.media[0].id, case.id, self.moderator)
        report, created = filing.create_report(
            case, self.rule, CSAM, triggered_by="human", created_by=self.moderator
        )
        db.session.commit()
        assert created
        assert pipeline.drive(report.id) == "finished"
        run_follow_ups()  # the evidence is preserved by a job of its own, after the finish
        db.session.expire_all()
        return db.session.get(ExternalReport, report.id)


def record_of(report: ExternalReport) -> EvidenceRecord:
    db.session.expire_all()
    return db.session.scalar(db.select(EvidenceRecord).where(EvidenceRecord.report_id == report.id))
