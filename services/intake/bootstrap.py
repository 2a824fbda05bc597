"""The one place intake is wired: the rule data its commands decide with, and what its
background processes consume and run (``python -m services.intake``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.domain.rules import RuleBook, load_rule_book
from services.intake.handlers import EVENT_HANDLERS
from shared.processes import ServiceWiring
from shared.workdays import WorkingCalendar

SERVICE = "intake"

WIRING = ServiceWiring(name=SERVICE, consumes=("adjudication", "sanctions"), handlers=EVENT_HANDLERS)


@dataclass(frozen=True)
class IntakeRules:
    """The rule data the intake commands decide with, loaded once per process."""

    rules: RuleBook
    calendar: WorkingCalendar


def intake_rules() -> IntakeRules:
    """Load the rule book and calendar: a rule file that does not validate stops the service
    at start, not mid-request."""
    return IntakeRules(rules=load_rule_book(), calendar=WorkingCalendar())
