"""The one place adjudication is wired: the command side the app carries commands out with
(store, clock, rule book, calendar), and what its background processes consume and run
(``python -m services.adjudication``)."""

from __future__ import annotations

import sqlalchemy as sa

from services.adjudication.domain.rules import load_rule_book
from services.adjudication.handlers import EVENT_HANDLERS, Adjudication, on_deadline_missed
from shared.clock import Clock
from shared.processes import ServiceWiring
from shared.workdays import WorkingCalendar

SERVICE = "adjudication"

WIRING = ServiceWiring(
    name=SERVICE, consumes=("intake",), handlers=EVENT_HANDLERS, on_deadline_missed=on_deadline_missed
)


def command_side(engine: sa.Engine, clock: Clock) -> Adjudication:
    """The app's command side; a rule file that does not validate stops the service at start,
    not mid-request."""
    return Adjudication(engine, clock, load_rule_book(), WorkingCalendar())
