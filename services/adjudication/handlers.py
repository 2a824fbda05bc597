"""What the adjudication service consumes and how it reacts: intake's reports and
registrations open examination files; lapsed deadlines are recorded (docs/events.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from services.adjudication.case import Case
from services.adjudication.lapses import lapse
from services.adjudication.opening import note_report, note_supplement, open_examination
from services.adjudication.readmodel import project
from shared.deadlines import DueDeadline
from shared.envelope import Actor, Context, Envelope
from shared.handling import Outcome, carry_out, sql_projector
from shared.inbox import Handler, PoisonRecord
from shared.processes import ServiceWiring
from shared.uow import SqlUnitOfWork

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


HANDLERS: dict[str, Handler] = {
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


WIRING = ServiceWiring(
    name="adjudication", consumes=("intake",), handlers=HANDLERS, on_deadline_missed=on_deadline_missed
)
