"""A PPK who does not act (docs/law.md §5 row 6a): when the follow-up deadline on a referred
case lapses with no decision, the breach is recorded and every escalation step of the rule
set is requested (blocking the employee's data in SIASN, Perban BKN 1/2023; proceedings
against the official, PP 94/2021 Ps 24(2)–(3)). The figure of the deadline is disputed
(10 vs 14 days, OQ4), so it is rule data."""

from __future__ import annotations

from datetime import date

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.rules import RuleSet
from shared.envelope import NewEvent

FOLLOW_UP = "ppk_follow_up"


def escalate(case: Case, rule_set: RuleSet, breach: NewEvent, lapsed_on: date) -> list[NewEvent]:
    """The breach and the escalation requests, or nothing if the case was decided meanwhile."""
    if case.decision is not None or case.closed:
        return []
    requests = [
        ev.dated(
            ev.ESCALATION_REQUESTED,
            {
                "action": step.id,
                "description": step.action,
                "article": step.basis.article,
                "confidence": step.basis.confidence,
                "deciding_official": case.referral.deciding_official.as_dict() if case.referral else None,
            },
            lapsed_on,
            rule_set.name,
        )
        for step in rule_set.escalation
    ]
    return [breach, *requests]
