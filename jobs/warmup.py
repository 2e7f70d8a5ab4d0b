"""Warming a worker up: the worker process files one synthetic report, rolled back, before its first job.

Used by jobs/settings.py (`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker`) only.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, configure_mappers

from console.cases.models import Case
from console.extensions import db
from console.media.models import MediaFile
from console.ncmec import FinishResult, IncidentType, UploadResult
from console.queues.models import Queue
from console.reporting import agencies, filing, pipeline
from console.reporting.models import ExternalReport, ReportFile
from console.timeutil import utcnow


class _DryRunClient:
    """Answers like the CyberTipline without a network: for warm_up only."""

    def submit(self, xml: bytes) -> str:
        return "0"

    def upload(self, report_id: str, path, filename: str | None = None) -> UploadResult:
        return UploadResult(file_id="warm-up", md5="0" * 32)

    def fileinfo(self, xml: bytes) -> None:
        return None

    def finish(self, report_id: str) -> FinishResult:
        return FinishResult(report_id=report_id, file_ids=())


def warm_up() -> str | None:
    """File one synthetic report inside a transaction that is rolled back, in the worker process.

    SQLAlchemy's compiled cache lives in process memory: warmed here, the first report does not compile the
    pipeline's statements (and a forking worker's work-horses would inherit the cache). Nothing is committed
    and no network call is made.
    """
    configure_mappers()
    with db.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        db.session.registry.set(session)
        try:
            queue = Queue(name="warm-up", slug="warm-up", source_kind="ai_review")
            session.add(queue)
            session.flush()
            now = utcnow()
            case = Case(
                queue_id=queue.id,
                source_kind="ai_review",
                reported_at=now,
                received_at=now,
                content_url="https://warm-up.invalid/",
            )
            session.add(case)
            session.flush()
            media = MediaFile(
                case_id=case.id,
                storage_key="warm-up",
                original_name="warm-up.png",
                mime_type="image/png",
                kind="image",
                size=1,
                sha256="0" * 64,
                md5="0" * 32,
            )
            session.add(media)
            session.flush()
            agency = agencies.ncmec()
            incident = IncidentType.CHILD_PORNOGRAPHY.value
            report = ExternalReport(
                agency_id=agency.id,
                case_id=case.id,
                fingerprint="warm-up",
                incident_type=incident,
                contact_first_name="Warm",
                contact_last_name="Up",
                contact_email="warm-up@invalid.example",
                payload=filing.build_payload(case, _WarmRule(), incident),
                created_at=now,
                updated_at=now,
                files=[
                    ReportFile(
                        media_id=media.id,
                        original_name="warm-up.png",
                        sha256="0" * 64,
                        md5="0" * 32,
                        annotations=[],
                    )
                ],
            )
            session.add(report)
            session.commit()  # releases the savepoint only
            return pipeline.drive(report.id, client=_DryRunClient(), enqueue_follow_ups=False)
        finally:
            session.close()
            outer.rollback()
            db.session.registry.clear()


class _WarmRule:
    contact_first_name, contact_last_name, contact_email = "Warm", "Up", "warm-up@invalid.example"
