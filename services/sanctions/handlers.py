"""Sanctions' handlers: an official's command or a consumed event -> load the case, decide
(services.sanctions.domain, pure), carry out (events, deadlines, read models) in one
transaction (shared.handling.carry_out).

``run`` carries out the officials' commands; an official acts only for the agency of the
employee (``subject.agency`` of the case's own referral). ``EVENT_HANDLERS`` are what the
inbox consumer calls for adjudication's referrals, and ``on_deadline_missed`` what the
scheduler calls for a lapsed deadline (wired in services.sanctions.bootstrap).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.corrections import by_valid_time
from services.sanctions.domain.lapses import WINDOWS, on_lapse
from services.sanctions.domain.reception import receive
from services.sanctions.domain.rules import default_rule_book
from services.sanctions.store.readmodel import project
from services.sanctions.web.schemas import ReferralSchema
from shared.auth import Identity
from shared.clock import Clock
from shared.db import retry_on_contention
from shared.deadlines import Expired, record_lapsed_before
from shared.envelope import Actor, Context, Envelope
from shared.handling import carry_out, sql_projector
from shared.inbox import Handler, PoisonRecord
from shared.legaltime import legal_date
from shared.outcome import DueDeadline, Outcome
from shared.refusals import StaleVersion
from shared.uow import SqlUnitOfWork
from shared.workdays import WorkingCalendar

Decide = Callable[[Case, date], Outcome]


class CaseNotFound(LookupError):
    """No such case among those the caller may act on."""


@dataclass(frozen=True)
class Done:
    """What a command recorded, and where the case stands after it."""

    case_id: str
    version: int
    state: str
    events: list[str]
    allowed_actions: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def visible(case: Case, identity: Identity) -> bool:
    """Whether ``identity`` may see or act on ``case``: officials only for their own agency."""
    if case.referral is None:
        return False
    return identity.role != "official" or identity.agency == case.referral.agency


@retry_on_contention
def run(
    engine: sa.Engine,
    clock: Clock,
    case_id: str,
    identity: Identity,
    expected_version: int,
    decide: Decide,
    valid_on: date,
) -> Done:
    """Decide on the case at ``expected_version`` (If-Match) as ``identity`` and record it:
    the command's fact is dated ``valid_on``, and the case is taken as it stood by valid time
    then (domain.corrections: a lapse recorded before an earlier-dated fact is withdrawn)."""
    today = legal_date(clock.now())
    with SqlUnitOfWork(engine, clock) as uow:
        history = uow.events.load(case_id)
        case = Case.of(history)
        if not visible(case, identity):
            raise CaseNotFound(case_id)
        if expected_version != len(history):
            raise StaleVersion(expected_version, len(history))
        # The lapses before the fact first: the client's version is the one before them.
        record_lapsed_before(uow, case_id, valid_on, on_deadline_missed)
        context = Context(Actor(identity.id, identity.role), correlation_id=case.correlation_id)
        carry_out(
            uow,
            case_id,
            lambda h: by_valid_time(h, valid_on, lambda case: decide(case, today)),
            context=context,
            project=sql_projector(uow, project),
        )
        recorded = uow.events.load(case_id)
        uow.commit()
    after = Case.of(recorded)
    return Done(
        case_id=case_id,
        version=after.version,
        state=after.state.value,
        events=[e.event_type for e in recorded[len(history) :]],
        allowed_actions=[a.value for a in after.allowed()],
    )


log = logging.getLogger(__name__)

CASE_REFERRED = "adjudication.case_referred"
CONSUMER = Actor(id="sanctions-consumer", role="system")
SCHEDULER = Actor(id=ev.SCHEDULER, role="system")


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


def on_deadline_missed(due: DueDeadline, uow: SqlUnitOfWork) -> str | Expired | None:
    """Record what a lapsed deadline means for its case: a breach, a window that closed
    (``Expired``: the penalty's time to take effect, the time to appeal), or None when the
    case moved past it."""
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
    if not appended:
        return None
    return Expired(appended[0].event_id) if due.kind in WINDOWS else appended[0].event_id


EVENT_HANDLERS: dict[str, Handler] = {CASE_REFERRED: on_case_referred}
