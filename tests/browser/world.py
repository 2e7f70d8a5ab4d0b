"""The demo world every page is looked at in: `make run`'s demo data, NCMEC connected to the simulator, the
demo platform connected, one CyberTip filed and finished (so the report, evidence, hash bank and audit pages
have rows), one confirmed case still waiting for its report (the dialog), a hash list imported and an API
token made. Built through the console's own services and the moderator's own requests, by a real RQ worker.

Used by tests/browser/test_every_page.py (accessibility and widths) and scripts/screenshots.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from console import demo
from console.accounts.models import User
from console.api import tokens
from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.hashbank import lists
from console.ncmec import IncidentType
from console.policies.models import Policy
from console.queues.models import Queue
from console.reporting import agencies, credentials
from console.reporting.models import ExternalReport, ReportingRule
from console.webhooks.models import WebhookAction, WebhookEndpoint

CSAM = IncidentType.CHILD_PORNOGRAPHY.value
ADMIN, MODERATOR, OTHER_MODERATOR = (email for email, _name, _role in demo.ACCOUNTS)
PASSWORD = demo.DEMO_PASSWORD


@dataclass
class World:
    """The ids a page's URL needs, by the URL rule's argument name, and the cases in each state."""

    ids: dict[str, int] = field(default_factory=dict)
    reported_case: int = 0  # confirmed, CyberTip finished
    waiting_case: int = 0  # confirmed, its report not yet sent (the dialog)
    open_case: int = 0  # undecided, with images


def connect_ncmec(simulator) -> None:
    agency = agencies.ncmec()
    agency.environment = "custom"
    agency.custom_base_url = simulator.base_url
    agency.username = simulator.username
    agency.password_encrypted = credentials.encrypt(simulator.password)
    db.session.commit()


def _post(client, path: str, data: dict, *, token_from: str) -> None:
    import re

    page = client.get(token_from).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    answer = client.post(path, data={**data, "csrf_token": token}, headers={"HX-Request": "true"})
    assert answer.status_code < 400, (path, answer.status_code, answer.text[:500])


def build(app, simulator, platform_url: str, platform_secret: str, run_jobs, *, cases_per_queue: int = 3):
    """The world, in the app's (empty) database. `run_jobs(app)` runs the queued jobs with a real worker."""
    demo.load(cases_per_queue=cases_per_queue)
    connect_ncmec(simulator)
    demo.connect_platform(platform_url, platform_secret)
    csam = db.session.scalar(select(Policy).where(Policy.slug == "csam"))
    with_images = [
        c
        for c in db.session.scalars(
            select(Case).join(Queue).where(Queue.source_kind != "ai_review").order_by(Case.id)
        )
        if c.policy_id is not None and any(m.mime_type.startswith("image/") for m in c.media)
    ]
    reported, waiting, still_open = with_images[0], with_images[1], with_images[-1]
    waiting.reported_user_id = reported.reported_user_id  # two contents of one user: the bundle dialog
    moderator = db.session.scalar(select(User).where(User.email == MODERATOR))
    cases.reveal(reported.media[0].id, reported.id, moderator)
    lists.import_list(
        b"algorithm,hash\nmd5," + b"3f" * 16 + b"\n", "Industry list (demo)", actor_label="demo data"
    )
    tokens.create_token("scanner", actor_label="demo data")
    ids = {
        "reported_case": reported.id,
        "waiting_case": waiting.id,
        "open_case": still_open.id,
        "queue_id": reported.queue_id,
        "reported_user_id": reported.reported_user_id,
    }
    db.session.commit()

    client = app.test_client()
    _post(client, "/login", {"email": MODERATOR, "password": PASSWORD}, token_from="/login")
    for case_id in (ids["reported_case"], ids["waiting_case"]):
        _post(
            client,
            f"/cases/{case_id}/decision",
            {"verdict": "violation", "policy": csam.id},
            token_from=f"/cases/{case_id}",
        )
    run_jobs(app)  # the decisions' webhooks to the demo platform
    _post(
        client,
        f"/cases/{ids['reported_case']}/ncmec-report",
        {"incident_type": CSAM},
        token_from=f"/cases/{ids['reported_case']}/ncmec-report",
    )
    run_jobs(app)  # files the report (enrichment first), then preservation and evidence
    run_jobs(app)
    report = db.session.scalar(select(ExternalReport).where(ExternalReport.case_id == ids["reported_case"]))
    assert report is not None and report.state == "finished", report and report.state
    ids["report_id"] = report.id
    ids["rule_id"] = db.session.scalar(select(ReportingRule.id))
    ids["endpoint_id"] = db.session.scalar(select(WebhookEndpoint.id))
    ids["action_id"] = db.session.scalar(select(WebhookAction.id))
    ids["case_id"] = ids["reported_case"]
    return World(
        ids=ids,
        reported_case=ids["reported_case"],
        waiting_case=ids["waiting_case"],
        open_case=ids["open_case"],
    )
