"""The command that receives a partner's report: idempotency, admissibility, linking,
the case's events and the read models, in one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.intake import projections, webhooks
from services.intake.admissibility import Assessment, assess
from services.intake.domain import Receipt, ReportStatus, case_number, receive, supplement
from services.intake.linking import LinkFacts, decide_link
from services.intake.readmodel import READ_MODEL, RECEIVED
from services.intake.report import Report
from services.intake.rules import RuleBook
from shared.envelope import Actor, Context
from shared.readmodel import project_all
from shared.uow import SqlUnitOfWork
from shared.workdays import WorkingCalendar

# Case numbers count per year of registration in Jakarta time (WIB), as an Indonesian
# register would.
NUMBERING_ZONE = ZoneInfo("Asia/Jakarta")


class IdempotencyConflict(Exception):
    """The key was used before with a different body (answered 409)."""


@dataclass(frozen=True)
class SubmitReport:
    """A partner pushes a report under an idempotency key."""

    partner: str
    idempotency_key: str
    body: bytes
    report: Report


@dataclass(frozen=True)
class Submitted:
    """The answer for the partner, and whether it is the stored answer to a retry."""

    response: dict[str, Any]
    replayed: bool


def submit_report(
    cmd: SubmitReport, uow: SqlUnitOfWork, rules: RuleBook, calendar: WorkingCalendar
) -> Submitted:
    """Receive one report (partner-api.md, POST /v1/reports)."""
    body_sha256 = hashlib.sha256(cmd.body).hexdigest()
    with uow:
        conn = uow.connection
        received_at = uow.clock.now()
        prior = projections.claim_idempotency_key(
            conn, cmd.partner, cmd.idempotency_key, body_sha256, received_at
        )
        if prior is not None:
            stored_hash, response = prior
            if stored_hash != body_sha256 or response is None:
                raise IdempotencyConflict(
                    f"Idempotency-Key {cmd.idempotency_key!r} was already used with a different body"
                )
            return Submitted(response, replayed=True)
        report_id = str(uuid.uuid4())
        assessment = assess(cmd.report, rules.in_force(cmd.report.known_at), calendar)
        receipt = _decide(conn, cmd, report_id, received_at, assessment)
        projections.keep_body(conn, report_id, json.loads(cmd.body))
        response = _response(receipt, report_id, received_at, assessment)
        projections.store_response(conn, cmd.partner, cmd.idempotency_key, response)
        # Last: the append holds the service-log lock until the commit. The read models are
        # projected from the appended events themselves, as a replay will project them.
        appended = uow.events.append(
            receipt.case_id,
            list(receipt.events),
            expected_version=len(uow.events.load(receipt.case_id)),
            context=Context(Actor(cmd.partner, "partner"), correlation_id=report_id),
        )
        project_all(conn, READ_MODEL, appended)
        received = appended[0]
        # The partner's first stage notice: its report is RECEIVED on a case.
        webhooks.enqueue_stage_change(
            conn,
            case_id=receipt.case_id,
            stage=RECEIVED,
            at=received_at,
            event_id=received.event_id,
            report_id=report_id,
        )
        uow.commit()
    return Submitted(response, replayed=False)


def _decide(
    conn: sa.Connection, cmd: SubmitReport, report_id: str, received_at: datetime, assessment: Assessment
) -> Receipt:
    facts = LinkFacts.of(cmd.report, cmd.partner)
    if facts.person is not None:
        # Two reports about one person at once must not both open a case.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": str(facts.person)})
    link = decide_link(facts, projections.candidate_cases(conn, facts))
    year = received_at.astimezone(NUMBERING_ZONE).year
    return receive(
        cmd.report,
        report_id=report_id,
        partner=cmd.partner,
        received_at=received_at,
        assessment=assessment,
        link=link,
        open_case=lambda: (
            str(uuid.uuid4()),
            case_number(year, projections.next_case_number(conn.engine, year)),
        ),
        joined_case_number=projections.case_number_of(conn, link.case_id) if link.case_id else None,
    )


def _response(
    receipt: Receipt, report_id: str, received_at: datetime, assessment: Assessment
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "report_id": report_id,
        "case_id": receipt.case_id,
        "case_number": receipt.case_number,
        "status": receipt.status.value,
        "received_at": received_at.isoformat(),
        "late": assessment.late,
        "links": {"self": f"/v1/reports/{report_id}", "case": f"/v1/cases/{receipt.case_id}"},
    }
    if receipt.status is ReportStatus.INCOMPLETE:
        response["missing"] = list(assessment.missing)
    if receipt.status is ReportStatus.OUT_OF_SCOPE and assessment.forwarded_to is not None:
        response["forwarded_to"] = assessment.forwarded_to.agency or assessment.forwarded_to.to.value
    return response


class NotSupplementable(Exception):
    """The report is not INCOMPLETE: nothing to supplement (answered 409)."""


@dataclass(frozen=True)
class SupplementReport:
    """A partner completes its INCOMPLETE report with the fields the law asks for."""

    partner: str
    report_id: uuid.UUID
    supplied: dict[str, Any]


def merged_body(original: dict[str, Any], supplied: dict[str, Any]) -> dict[str, Any]:
    """The original request body with the supplied fields laid over it, object by object."""
    merged = dict(original)
    for key, value in supplied.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merged_body(merged[key], value)
        else:
            merged[key] = value
    return merged


def supplement_report(
    cmd: SupplementReport,
    uow: SqlUnitOfWork,
    rules: RuleBook,
    calendar: WorkingCalendar,
    load: Callable[[dict[str, Any]], Report],
) -> dict[str, Any] | None:
    """Apply a supplement; the report's new answer, or None when the partner has no such report.

    ``load`` validates the merged body (raising the schema's ValidationError), so a
    supplement can never leave a report the partner could not have sent whole.
    """
    with uow:
        conn = uow.connection
        row = projections.report_for_supplement(conn, cmd.report_id, cmd.partner)
        if row is None:
            return None
        if row.status != ReportStatus.INCOMPLETE.value:
            raise NotSupplementable(
                f"report {cmd.report_id} is {row.status}: only an INCOMPLETE report takes a supplement"
            )
        body = merged_body(row.body, cmd.supplied)
        report = load(body)
        assessment = assess(report, rules.in_force(report.known_at), calendar)
        at = uow.clock.now()
        status, events = supplement(
            report_id=str(cmd.report_id),
            case_number=row.case_number,
            supplied=cmd.supplied,
            assessment=assessment,
            at=at,
        )
        projections.keep_body(conn, str(cmd.report_id), body)
        case_id = str(row.case_id)
        appended = uow.events.append(
            case_id,
            list(events),
            expected_version=len(uow.events.load(case_id)),
            context=Context(Actor(cmd.partner, "partner"), correlation_id=str(cmd.report_id)),
        )
        project_all(conn, READ_MODEL, appended)
        uow.commit()
    answer: dict[str, Any] = {
        "report_id": str(cmd.report_id),
        "case_id": case_id,
        "case_number": row.case_number,
        "status": status.value,
        "received_at": row.received_at.isoformat(),
        "late": row.late,
        "links": {"self": f"/v1/reports/{cmd.report_id}", "case": f"/v1/cases/{case_id}"},
    }
    if status is ReportStatus.INCOMPLETE:
        answer["missing"] = list(assessment.missing)
    return answer
