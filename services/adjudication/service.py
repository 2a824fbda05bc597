"""Carrying out adjudication's commands and reactions on the database: load the case, check
who may act, decide (pure), and record events, deadlines and read models in one transaction
(shared.handling.carry_out)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from services.adjudication.assignment import authorize
from services.adjudication.case import Case, State
from services.adjudication.commands import Deciding
from services.adjudication.readmodel import project
from services.adjudication.referral import conclude
from services.adjudication.rules import RuleBook
from shared.clock import Clock
from shared.envelope import Actor, Context, Envelope
from shared.handling import Outcome, carry_out, sql_projector
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
            rows = conn.execute(
                sa.text("SELECT envelope FROM events WHERE stream_id = :c ORDER BY stream_version"),
                {"c": case_id},
            ).scalars()
            history = [Envelope.from_bytes(r.encode()) for r in rows]
        case = Case.from_events(history, case_id)
        if case.state is State.AWAITING_REGISTRATION:
            raise CaseNotFound(case_id)
        return case, history

    def handle(
        self,
        case_id: str,
        action: str,
        decide: Decider,
        command: Any,
        actor: Actor,
        expected_version: int,
    ) -> list[Envelope]:
        """Carry out one command by ``actor``; return the events it appended.

        Raises CaseNotFound, NotPermitted (403), StaleVersion (412), IllegalTransition (409)
        or RuleViolation(s) (422); nothing is recorded then.
        """
        with SqlUnitOfWork(self.engine, self.clock) as uow:
            case = Case.from_events(uow.events.load(case_id), case_id)
            if case.state is State.AWAITING_REGISTRATION:
                raise CaseNotFound(case_id)
            authorize(case, actor.id, actor.role, action)
            deciding = Deciding(self.book, self.calendar, self.clock.now(), actor.id)
            context = Context(actor, correlation_id=case.correlation_id or case_id)
            projector = sql_projector(uow, project)
            appended = carry_out(
                uow,
                case_id,
                lambda history: decide(Case.from_events(history, case_id), command, deciding),
                context=context,
                expected_version=expected_version,
                project=projector,
            )
            if action == "finding":
                # The referral names the finding's event id, so it is decided once that is appended.
                appended += carry_out(
                    uow,
                    case_id,
                    lambda history: conclude(Case.from_events(history, case_id), self.book),
                    context=Context(actor, context.correlation_id, causation_id=appended[-1].event_id),
                    project=projector,
                )
            uow.commit()
        return appended
