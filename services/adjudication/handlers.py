"""Adjudication's handlers: a command or a consumed event -> load the case, decide
(services.adjudication.domain, pure), carry out (events, deadlines, read models) in one
transaction (shared.handling.carry_out).

``Adjudication.handle`` carries out the investigators' and supervisors' commands;
``EVENT_HANDLERS`` are what the inbox consumer calls for intake's events, and
``on_deadline_missed`` what the scheduler calls for a lapsed deadline (wired in
services.adjudication.bootstrap).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.adjudication.domain.assignment import authorize
from services.adjudication.domain.case import Case, State
from services.adjudication.domain.commands import Deciding
from services.adjudication.domain.corrections import withdrawing_breaches
from services.adjudication.domain.lapses import lapse
from services.adjudication.domain.opening import note_report, note_supplement, open_examination
from services.adjudication.domain.rules import RuleBook
from services.adjudication.store.readmodel import project
from shared.clock import Clock
from shared.db import retry_on_contention
from shared.envelope import Actor, Context, Envelope
from shared.eventstore import SqlEventStore
from shared.handling import carry_out, sql_projector
from shared.inbox import Handler, PoisonRecord
from shared.outcome import DueDeadline, Outcome
from shared.uow import SqlUnitOfWork
from shared.workdays import WorkingCalendar

Decider = Callable[[Case, Any, Deciding], Outcome]


class CaseNotFound(LookupError):
    """No examination file with this id (answered 404)."""


@dataclass(frozen=True)
class Adjudication:
    """The command side of the service: one per app or consumer process."""

    engine: sa.Engine
    clock: Clock
    book: RuleBook
    calendar: WorkingCalendar

    def load(self, case_id: str) -> tuple[Case, list[Envelope]]:
        """The case and its history, read-only (for queries)."""
        with self.engine.connect() as conn:
            history = SqlEventStore(conn, self.clock).load(case_id)
        case = Case.from_events(history, case_id)
        if case.state is State.AWAITING_REGISTRATION:
            raise CaseNotFound(case_id)
        return case, history

    @retry_on_contention
    def handle(
        self,
        case_id: str,
        action: str,
        decide: Decider,
        command: Any,
        actor: Actor,
        expected_version: int,
    ) -> tuple[Case, list[Envelope]]:
        """Carry out one command by ``actor``; the case after it and the events it appended.

        Raises CaseNotFound, NotPermitted (403), StaleVersion (412), IllegalTransition (409)
        or RuleViolation(s) (422); nothing is recorded then.
        """
        decided_on: list[Envelope] = []

        def decided(history: list[Envelope]) -> Outcome:
            # Kept so the answer is the history decided on plus what was appended: its
            # version is the one this command made, whatever commits after it.
            decided_on[:] = history
            outcome = decide(Case.from_events(history, case_id), command, deciding)
            return withdrawing_breaches(history, outcome)

        with SqlUnitOfWork(self.engine, self.clock) as uow:
            case = Case.from_events(uow.events.load(case_id), case_id)
            if case.state is State.AWAITING_REGISTRATION:
                raise CaseNotFound(case_id)
            authorize(case, actor.id, actor.role, action)
            deciding = Deciding(self.book, self.calendar, self.clock.now(), actor.id)
            appended = carry_out(
                uow,
                case_id,
                decided,
                context=Context(actor, correlation_id=case.correlation_id or case_id),
                expected_version=expected_version,
                project=sql_projector(uow, project),
            )
            uow.commit()
        return Case.from_events([*decided_on, *appended], case_id), appended


CONSUMER = Actor(id="adjudication-consumer", role="system")
SCHEDULER = Actor(id="adjudication-scheduler", role="system")


def _reaction(decide: Callable[[Case, Envelope], Outcome]) -> Handler:
    """A handler that decides on the case's history and the received event, then records."""

    def handle(received: Envelope, uow: SqlUnitOfWork) -> None:
        try:
            uuid.UUID(received.stream_id)
        except ValueError as exc:
            raise PoisonRecord(f"case id {received.stream_id!r} is not a UUID") from exc
        context = Context(CONSUMER, correlation_id=received.correlation_id, causation_id=received.event_id)

        def decided(history: list[Envelope]) -> Outcome:
            try:
                return decide(Case.from_events(history, received.stream_id), received)
            except (KeyError, TypeError, ValueError) as exc:
                raise PoisonRecord(f"payload not as docs/events.md says: {exc!r}") from exc

        carry_out(uow, received.stream_id, decided, context=context, project=sql_projector(uow, project))

    return handle


def _at(received: Envelope) -> datetime:
    return datetime.fromisoformat(received.occurred_at)


EVENT_HANDLERS: dict[str, Handler] = {
    "intake.report_received": _reaction(lambda case, e: note_report(e.payload, _at(e))),
    "intake.report_supplemented": _reaction(lambda case, e: note_supplement(e.payload, _at(e))),
    "intake.case_registered": _reaction(lambda case, e: open_examination(case, e.payload, _at(e))),
}


def on_deadline_missed(due: DueDeadline, uow: SqlUnitOfWork) -> str | None:
    """Record a lapsed deadline; None when the case has moved past it (the row is cancelled)."""
    history = uow.events.load(due.stream_id)
    case = Case.from_events(history, due.stream_id)
    context = Context(
        SCHEDULER, correlation_id=case.correlation_id or due.stream_id, causation_id=due.started_by
    )
    appended = carry_out(
        uow,
        due.stream_id,
        lambda h: lapse(Case.from_events(h, due.stream_id), due),
        context=context,
        project=sql_projector(uow, project),
    )
    return appended[0].event_id if appended else None
