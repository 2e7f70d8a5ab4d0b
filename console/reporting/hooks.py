"""Where case decisions meet external reporting.

Called inside the deciding transaction, so that a report row created here commits (or not) together with
the decision that caused it; jobs are enqueued by the caller after that commit.

- AI-detected case confirmed by a person in the covering rule's review queue: the report is created and
  filed automatically, with the incident type mapped from the confirmed policy (no dialog).
- Any other confirmed violation covered by an enabled rule: the moderator is asked to file the report
  (the "Report to NCMEC" dialog), since a person must choose the incident type.
"""

from __future__ import annotations

from flask import current_app, url_for

from console.policies.service import incident_type_for
from console.reporting import filing, pipeline, rules


def after_violation_confirmed(case, decision, moderator, outcome) -> None:
    rule = rules.rule_for(decision.policy_id)
    if rule is None:
        return
    incident_type = incident_type_for(decision.policy_id)
    if case.ai_detected and case.queue_id == rule.review_queue_id and incident_type:
        report, created = filing.create_report(
            case, rule, incident_type, triggered_by="ai", created_by=moderator
        )
        if created:
            outcome.jobs.append((pipeline.JOB, (report.id,), None))
        return
    if filing.existing_report_for(case, rule.agency_id) is None:
        case.ncmec_report_required = True
    if "reporting.new_report" in current_app.view_functions:
        outcome.dialog_url = url_for("reporting.new_report", case_id=case.id)
