"""The one place sanctions is wired: its rule book, loaded and checked at start, and what its
background processes consume and run (``python -m services.sanctions``)."""

from __future__ import annotations

from services.sanctions.domain.rules import RuleBook, default_rule_book
from services.sanctions.handlers import EVENT_HANDLERS, on_deadline_missed
from shared.processes import ServiceWiring

SERVICE = "sanctions"

WIRING = ServiceWiring(
    name=SERVICE, consumes=("adjudication",), handlers=EVENT_HANDLERS, on_deadline_missed=on_deadline_missed
)


def rule_book() -> RuleBook:
    """The rule book every command and reaction decides with (loaded once per process): a
    rule file that does not validate stops the service at start, not mid-request."""
    return default_rule_book()
