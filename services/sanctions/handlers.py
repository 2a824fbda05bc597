"""What the sanctions service consumes and how it reacts: referrals from adjudication, and
the legal deadlines that lapse (shared.deadlines calls ``on_deadline_missed``)."""

from __future__ import annotations

import logging
from datetime import datetime

import marshmallow as ma

from services.sanctions import events as ev
from services.sanctions.case import Case
from services.sanctions.lapses import on_lapse
from services.sanctions.readmodel import project
from services.sanctions.reception import receive
from services.sanctions.rules import default_rule_book
from services.sanctions.schemas import ReferralSchema
from shared.deadlines import DueDeadline
from shared.envelope import Actor, Context, Envelope
from shared.handling import Outcome, carry_out, sql_projector
from shared.inbox import Handler, PoisonRecord
from shared.legaltime import legal_date
from shared.processes import ServiceWiring
from shared.uow import SqlUnitOfWork
from shared.workdays import WorkingCalendar

log = logging.getLogger(__name__)

CASE_REFERRED = "adjudication.case_referred"
CONSUMER = Actor(id="sanctions-consumer", role="system")
SCHEDULER = Actor(id="sanctions-scheduler", role="system")


def on_case_referred(received: Envelope, uow: SqlUnitOfWork) -> None:
    """Keep the referral as the case's first sanctions event and start the PPK's clock."""
    try:
        referral = ReferralSchema().load(received.payload)
    except ma.ValidationError as exc:
        raise PoisonRecord(f"the referral fails its schema: {exc.messages}") from exc
    referred_on = legal_date(datetime.fromisoformat(received.occurred_at))
    book, calendar = default_rule_book(), WorkingCalendar()
    carry_out(
        uow,
        received.stream_id,
        lambda history: receive(Case.of(history), book, calendar, referral, received.event_id, referred_on),
        context=Context(CONSUMER, correlation_id=received.correlation_id, causation_id=received.event_id),
        project=sql_projector(uow, project),
    )


def on_deadline_missed(due: DueDeadline, uow: SqlUnitOfWork) -> str | None:
    """Record what a lapsed deadline means for its case; None when the case moved past it."""
    history = uow.events.load(due.stream_id)
    if not history:
        return None
    book = default_rule_book()
    breach = due.missed_event(ev.SERVICE)

    def decide(history: list[Envelope]) -> Outcome:
        return Outcome(on_lapse(Case.of(history), book, due.kind, due.due_on, breach))

    appended = carry_out(
        uow,
        due.stream_id,
        decide,
        context=Context(SCHEDULER, correlation_id=history[0].correlation_id, causation_id=due.started_by),
        project=sql_projector(uow, project),
    )
    return appended[0].event_id if appended else None


HANDLERS: dict[str, Handler] = {CASE_REFERRED: on_case_referred}

WIRING = ServiceWiring(
    name="sanctions", consumes=("adjudication",), handlers=HANDLERS, on_deadline_missed=on_deadline_missed
)
