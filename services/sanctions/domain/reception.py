"""Receiving a referral from adjudication: sanctions keeps its own copy, chooses the rule
set by the incident date and starts the PPK's follow-up clock (docs/law.md §5 rows 6, 6a)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.escalation import FOLLOW_UP
from services.sanctions.domain.rules import RuleBook
from shared.outcome import DeadlineStart, Outcome
from shared.workdays import WorkingCalendar


def receive(
    case: Case,
    book: RuleBook,
    calendar: WorkingCalendar,
    referral: Mapping[str, Any],
    referral_event_id: str,
    referred_on: date,
) -> Outcome:
    """``sanctions.referral_received`` with the follow-up deadline; nothing for a case
    already referred (a second referral of one case is adjudication's error, not a new case)."""
    if case.referral is not None:
        return Outcome([])
    # Without an incident date the referral's own date chooses (the later regime: R).
    on = date.fromisoformat(referral.get("incident_date") or referred_on.isoformat())
    rule_set = book.in_force_or_none(on)
    version = rule_set.name if rule_set else None
    payload = {
        **referral,
        "referral_event_id": referral_event_id,
        "referred_on": referred_on.isoformat(),
        "rule_set": version,
    }
    event = ev.dated(ev.REFERRAL_RECEIVED, payload, referred_on, version)
    if rule_set is None:
        return Outcome([event])
    rule = rule_set.deadline(FOLLOW_UP)
    due = calendar.add_days(referred_on, rule.days, rule.count)
    return Outcome([event], starts=[DeadlineStart(FOLLOW_UP, due, rule.count, version)])
