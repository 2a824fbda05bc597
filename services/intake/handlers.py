"""Intake's handlers: a partner's command or a consumed event -> gather the facts (SQL),
decide (services.intake.domain, pure), carry out (events, read models, webhooks) in one
transaction.

``EVENT_HANDLERS`` is what the inbox consumer calls for the adjudication and sanctions
events it receives (services.intake.bootstrap wires it); every other consumed event is still
recorded in the inbox, so nothing is lost and nothing is handled twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.intake.domain.admissibility import Assessment, assess, reporting_deadline
from services.intake.domain.commands import SubmitReport, SupplementReport
from services.intake.domain.disclosure import CASE_WORKERS, Reader, disclose, erasure
from services.intake.domain.events import CASE_STAGE_CHANGED, REPORT_RECEIVED, REPORT_SUPPLEMENTED
from services.intake.domain.linking import ExistingCase, LinkFacts, PersonKey, decide_link
from services.intake.domain.receiving import (
    Receipt,
    ReportStatus,
    case_number,
    merged_body,
    receive,
    supplement,
)
from services.intake.domain.report import Report
from services.intake.domain.rules import RuleBook
from services.intake.domain.stages import RECEIVED, STAGE_OF, note_stage
from services.intake.store import records, webhooks
from services.intake.store.identities import ReportSeals
from services.intake.store.readmodel import READ_MODEL, READ_SCOPE
from shared.auth import Identity
from shared.db import retry_on_contention
from shared.envelope import Actor, Context, Envelope
from shared.inbox import Handler, PoisonRecord
from shared.keyring import Erased, ErasedField, KeyStore, is_sealed
from shared.readmodel import project_all
from shared.uow import SqlUnitOfWork
from shared.workdays import WorkingCalendar

log = logging.getLogger(__name__)

# Case numbers count per year of registration in Jakarta time (WIB), as an Indonesian
# register would.
NUMBERING_ZONE = ZoneInfo("Asia/Jakarta")
CONSUMER = Actor(id="intake-consumer", role="system")


class IdempotencyConflict(Exception):
    """The key was used before with a different body (answered 409)."""


@dataclass(frozen=True)
class Submitted:
    """The answer for the partner, and whether it is the stored answer to a retry."""

    response: dict[str, Any]
    replayed: bool


@retry_on_contention
def submit_report(
    cmd: SubmitReport, uow: SqlUnitOfWork, rules: RuleBook, calendar: WorkingCalendar, keys: KeyStore
) -> Submitted:
    """Receive one report (docs/partner-api.md, POST /v1/reports): gather, decide, carry out."""
    with uow:
        received_at = uow.clock.now()
        replayed = _claim_key(uow.connection, cmd, received_at)
        if replayed is not None:
            return replayed
        report_id = str(uuid.uuid4())
        seals = ReportSeals(keys, report_id, actor=cmd.partner, purpose="submit")
        facts = seals.blinded(LinkFacts.of(cmd.report, cmd.partner))
        candidates = _gather(uow.connection, facts)
        assessment = assess(cmd.report, rules.in_force(cmd.report.known_at), calendar)
        link = decide_link(facts, candidates)
        receipt = receive(
            cmd.report,
            report_id=report_id,
            partner=cmd.partner,
            received_at=received_at,
            assessment=assessment,
            link=link,
            open_case=_case_opener(uow.connection, received_at),
            joined_case_number=next((c.case_number for c in candidates if c.case_id == link.case_id), None),
            reporter_identity=seals.reporter_identity(cmd.report.reporter),
            subject_identity=seals.subject_identity(cmd.report.subject, facts.person),
            person=facts.person,
        )
        response = _response(receipt, report_id, received_at, assessment)
        body = seals.sealed_body(json.loads(cmd.body), facts.person)
        _record_receipt(uow, cmd, receipt, report_id, response, received_at, body)
        uow.commit()
    return Submitted(response, replayed=False)


def _claim_key(conn: sa.Connection, cmd: SubmitReport, received_at: datetime) -> Submitted | None:
    """Claim the Idempotency-Key; the stored answer when this is a retry of the same body."""
    body_sha256 = hashlib.sha256(cmd.body).hexdigest()
    prior = records.claim_idempotency_key(conn, cmd.partner, cmd.idempotency_key, body_sha256, received_at)
    if prior is None:
        return None
    stored_hash, response = prior
    if stored_hash != body_sha256 or response is None:
        raise IdempotencyConflict(
            f"Idempotency-Key {cmd.idempotency_key!r} was already used with a different body"
        )
    return Submitted(response, replayed=True)


def _gather(conn: sa.Connection, facts: LinkFacts) -> list[ExistingCase]:
    """The cases the report could join, with the person locked so that two reports about
    one person at once cannot both open a case."""
    if facts.person is not None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": str(facts.person)})
    return records.candidate_cases(conn, facts)


def _case_opener(conn: sa.Connection, received_at: datetime) -> Callable[[], tuple[str, str]]:
    """A new case's id and number, taken only when the report opens one: a report that joins
    a case uses up no number of the register."""
    year = received_at.astimezone(NUMBERING_ZONE).year
    return lambda: (str(uuid.uuid4()), case_number(year, records.next_case_number(conn.engine, year)))


def _record_receipt(
    uow: SqlUnitOfWork,
    cmd: SubmitReport,
    receipt: Receipt,
    report_id: str,
    response: dict[str, Any],
    received_at: datetime,
    body: dict[str, Any],
) -> None:
    conn = uow.connection
    records.keep_body(conn, report_id, body)
    records.store_response(conn, cmd.partner, cmd.idempotency_key, response)
    # Last: the append holds the service-log lock until the commit. The read models are
    # projected from the appended events themselves, as a replay will project them.
    # A case opened here has a new id and no events yet: no need to read its stream.
    version = 0 if receipt.opens_case else len(uow.events.load(receipt.case_id))
    appended = uow.events.append(
        receipt.case_id,
        list(receipt.events),
        expected_version=version,
        context=Context(Actor(cmd.partner, "partner"), correlation_id=report_id),
    )
    project_all(conn, READ_MODEL, appended)
    # The partner's first stage notice: its report is RECEIVED on a case.
    webhooks.enqueue_stage_change(
        conn,
        case_id=receipt.case_id,
        stage=RECEIVED,
        at=received_at,
        event_id=appended[0].event_id,
        report_id=report_id,
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
        # Stored with the rest, so a retry is answered the deadline first given.
        "reporting_deadline": reporting_deadline(assessment.to_record()["window"]),
        "links": {"self": f"/v1/reports/{report_id}", "case": f"/v1/cases/{receipt.case_id}"},
    }
    if receipt.status is ReportStatus.INCOMPLETE:
        response["missing"] = list(assessment.missing)
    if receipt.status is ReportStatus.OUT_OF_SCOPE and assessment.forwarded_to is not None:
        response["forwarded_to"] = assessment.forwarded_to.agency or assessment.forwarded_to.to.value
    return response


class NotSupplementable(Exception):
    """The report is not INCOMPLETE: nothing to supplement (answered 409)."""


@retry_on_contention
def supplement_report(
    cmd: SupplementReport,
    uow: SqlUnitOfWork,
    rules: RuleBook,
    calendar: WorkingCalendar,
    load: Callable[[dict[str, Any]], Report],
    keys: KeyStore,
) -> dict[str, Any] | None:
    """Apply a supplement; the report's new answer, or None when the partner has no such report.

    ``load`` validates the merged body (raising the schema's ValidationError), so a
    supplement can never leave a report the partner could not have sent whole.
    """
    with uow:
        conn = uow.connection
        # The service log before the report's row, as every writer takes them: the stage
        # events projected under the log lock update the same rows.
        uow.lock_service_log()
        row = records.report_for_supplement(conn, cmd.report_id, cmd.partner)
        if row is None:
            return None
        if row.status != ReportStatus.INCOMPLETE.value:
            raise NotSupplementable(
                f"report {cmd.report_id} is {row.status}: only an INCOMPLETE report takes a supplement"
            )
        seals = ReportSeals(keys, str(cmd.report_id), actor=cmd.partner, purpose="supplement")
        try:
            body = merged_body(seals.opened_body(row.body), cmd.supplied)
        except Erased as exc:
            raise NotSupplementable(
                f"personal data of report {cmd.report_id} was erased: it can no longer be completed"
            ) from exc
        report = load(body)
        person = seals.blind(PersonKey.of(report))
        assessment = assess(report, rules.in_force(report.known_at), calendar)
        at = uow.clock.now()
        status, events = supplement(
            report_id=str(cmd.report_id),
            case_number=row.case_number,
            supplied=seals.sealed_body(cmd.supplied, person),
            report=report,
            assessment=assessment,
            at=at,
            reporter_identity=seals.reporter_identity(report.reporter),
            subject_identity=seals.subject_identity(report.subject, person),
            person=person,
        )
        records.keep_body(conn, str(cmd.report_id), seals.sealed_body(body, person))
        case_id = str(row.case_id)
        appended = uow.events.append(
            case_id,
            list(events),
            expected_version=len(uow.events.load(case_id)),
            context=Context(Actor(cmd.partner, "partner"), correlation_id=str(cmd.report_id)),
        )
        project_all(conn, READ_MODEL, appended)
        # As first assessed, like ``late``: the window of the report's opening event.
        deadline = records.recorded_deadline(conn, case_id, str(cmd.report_id))
        uow.commit()
    answer: dict[str, Any] = {
        "report_id": str(cmd.report_id),
        "case_id": case_id,
        "case_number": row.case_number,
        "status": status.value,
        "received_at": row.received_at.isoformat(),
        "late": row.late,
        "reporting_deadline": deadline,
        "links": {"self": f"/v1/reports/{cmd.report_id}", "case": f"/v1/cases/{case_id}"},
    }
    if status is ReportStatus.INCOMPLETE:
        answer["missing"] = list(assessment.missing)
    return answer


@dataclass(frozen=True)
class Disclosed:
    """A reporter's identity as shown to one reader: the clear fields, or erased."""

    report_id: str
    confidential: bool
    identity: dict[str, Any] | ErasedField


@retry_on_contention
def disclose_reporter(
    report_id: uuid.UUID, reader: Reader, uow: SqlUnitOfWork, keys: KeyStore
) -> Disclosed | None:
    """Show ``reader`` who filed a report, recording the disclosure on the case first
    (domain.disclosure decides who may); None when there is no such report, or it is another
    partner's, or a case outside a supervisor's reads (shared.scope), or it names no reporter."""
    with uow:
        row = records.report_owner(uow.connection, report_id)
        if row is None or not _may_know_of(reader, row):
            return None
        case_id = str(row.case_id)
        history = uow.events.load(case_id)
        reporter = _latest_reporter(history, str(report_id))
        if reporter is None:
            return None
        event = disclose(
            reader,
            report_id=str(report_id),
            filed_by=row.partner,
            confidential=reporter.confidential,
            at=uow.clock.now(),
        )
        sealed = reporter.identity
        opened = keys.open(sealed, purpose="disclose", actor=reader.id) if is_sealed(sealed) else sealed
        appended = uow.events.append(
            case_id,
            [event],
            expected_version=len(history),
            context=Context(Actor(reader.id, reader.role), correlation_id=str(report_id)),
        )
        project_all(uow.connection, READ_MODEL, appended)
        uow.commit()
    return Disclosed(str(report_id), reporter.confidential, opened)


def _may_know_of(reader: Reader, row: Any) -> bool:
    """Whether ``reader`` may learn that the report exists at all (else: 404)."""
    if reader.role == "partner":
        return bool(row.partner == reader.id)
    if reader.role in CASE_WORKERS:
        return READ_SCOPE.admits(Identity(reader.id, reader.role, reader.agency), agency=row.agency)
    return True


@dataclass(frozen=True)
class _RecordedReporter:
    confidential: bool
    identity: Any


def _latest_reporter(history: list[Envelope], report_id: str) -> _RecordedReporter | None:
    """The reporter as the report's latest record (received, or supplemented) holds it."""
    latest = None
    for env in history:
        if (
            env.event_type in (REPORT_RECEIVED, REPORT_SUPPLEMENTED)
            and env.payload.get("report_id") == report_id
        ):
            latest = env.payload["report"].get("reporter")
    if latest is None:
        return None
    if "identity" in latest:
        return _RecordedReporter(bool(latest["confidential"]), latest["identity"])
    # Recorded before identities were sealed: in the clear, as it was sent.
    clear = {k: v for k, v in latest.items() if k != "confidential"}
    return _RecordedReporter(bool(latest.get("confidential")), clear)


def erase_subject(
    subject: str, *, actor: Actor, reason: str, uow: SqlUnitOfWork, keys: KeyStore
) -> list[str] | None:
    """Destroy a data subject's key (a report's reporter, or a person) and record the erasure
    on each intake case that names them; those case ids, or None when intake knows no such
    subject. The key goes first: were the events lost to a crash, running the erasure again
    records them (the key is already gone)."""
    with uow:
        found = _erasure_targets(uow.connection, subject)
        if found is None or keys.info(subject) is None:
            return None
        report_id, fields, case_ids = found
        keys.erase(subject, actor=actor.id, reason=reason)
        at, correlation = uow.clock.now(), report_id or str(uuid.uuid4())
        for case_id in case_ids:
            event = erasure(subject=subject, fields=fields, reason=reason, at=at, report_id=report_id)
            appended = uow.events.append(
                case_id,
                [event],
                expected_version=len(uow.events.load(case_id)),
                context=Context(actor, correlation_id=correlation),
            )
            project_all(uow.connection, READ_MODEL, appended)
        uow.commit()
    return case_ids


def _erasure_targets(conn: sa.Connection, subject: str) -> tuple[str | None, list[str], list[str]] | None:
    """(report id, erased fields, case ids) for a data subject intake keeps, or None."""
    kind, _, key = subject.partition("/")
    if kind == "reporter":
        try:
            row = records.report_owner(conn, uuid.UUID(key))
        except ValueError:
            return None
        return None if row is None else (key, ["reporter"], [str(row.case_id)])
    if kind == "person":
        return None, ["subject.identity"], records.cases_of_person(conn, key)
    return None


def on_stage_event(received: Envelope, uow: SqlUnitOfWork) -> None:
    """Record the stage an adjudication or sanctions event puts its case in (domain.stages)."""
    conn = uow.connection
    case_id = received.stream_id
    try:
        uuid.UUID(case_id)
    except ValueError as exc:
        raise PoisonRecord(f"case id {case_id!r} is not a UUID") from exc
    # The service log first, then the case row: the order every writer takes them in.
    uow.lock_service_log()
    previous = conn.execute(
        sa.text("SELECT stage FROM intake_cases WHERE case_id = CAST(:c AS uuid) FOR UPDATE"), {"c": case_id}
    ).scalar()
    if previous is None:
        # Every case starts at intake, so this is another deployment's case or a test event:
        # nothing of ours to update (the inbox still records that we saw it).
        log.warning("stage event for a case intake does not know", extra={"case_id": case_id})
        return
    history = uow.events.load(case_id)
    noted = note_stage(history, previous, received)
    appended = uow.events.append(
        case_id,
        [noted],
        expected_version=len(history),
        context=Context(CONSUMER, correlation_id=received.correlation_id, causation_id=received.event_id),
    )
    project_all(conn, READ_MODEL, appended)
    if noted.event_type == CASE_STAGE_CHANGED:
        webhooks.enqueue_stage_change(
            conn,
            case_id=case_id,
            stage=noted.payload["stage"],
            at=noted.occurred_at,
            event_id=received.event_id,
        )


EVENT_HANDLERS: dict[str, Handler] = dict.fromkeys(STAGE_OF, on_stage_event)
