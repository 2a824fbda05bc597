"""The penalty in force, its execution and the closing of the case.

A timed penalty (a 6/9/12-month cut, a 12-month demotion or removal) runs from the day it
takes effect for its duration (PP 94/2021 Ps 8) and ends with a recorded completion; what
"completed" means in HR practice is unknown (docs/law.md OQ9), so a person records it. A
dismissal, and any penalty without a duration, is carried out the day it takes effect.
The case closes once the penalty is in force and executed and no appeal is pending or
can still come in time.
"""

from __future__ import annotations

import calendar as months
from datetime import date, timedelta

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Action, Case
from shared.envelope import NewEvent
from shared.legaltime import require_dated
from shared.outcome import Outcome
from shared.refusals import RuleViolation, RuleViolations


def take_effect(case: Case, on: date) -> list[NewEvent]:
    """The standing penalty comes into force on ``on``: in force, executed or started, and
    closed if nothing is left to wait for."""
    assert case.penalty is not None
    penalty = case.penalty
    events = [ev.dated(ev.PENALTY_IN_FORCE, {"penalty": penalty["code"], "in_force_on": on.isoformat()}, on)]
    months_ = penalty.get("duration_months")
    if months_:
        end = add_months(on, months_) - timedelta(days=1)
        started = {"penalty": penalty["code"], "start_on": on.isoformat(), "end_on": end.isoformat()}
        events.append(ev.dated(ev.EXECUTION_STARTED, {**started, "duration_months": months_}, on))
    else:
        how = "DISMISSAL_EFFECTIVE" if penalty.get("dismissal") else "ON_TAKING_EFFECT"
        events.append(
            ev.dated(
                ev.PENALTY_EXECUTED,
                {"penalty": penalty["code"], "executed_on": on.isoformat(), "how": how},
                on,
            )
        )
    return events + closing(case.evolve(events), on)


def complete(case: Case, completed_on: date, today: date) -> Outcome:
    """Record that a timed penalty has run its course; close the case if it may close."""
    case.require(Action.COMPLETION)
    assert case.execution is not None
    start, end = date.fromisoformat(case.execution["start_on"]), date.fromisoformat(case.execution["end_on"])
    require_dated("completed_on", completed_on, not_before=start, today=today)
    if completed_on < end:
        raise RuleViolations(
            [
                RuleViolation(
                    "completed_on",
                    f"the penalty runs {case.execution['duration_months']} months, until {end}",
                    f"PENALTY_DURATION ({case.penalty['article'] if case.penalty else 'PP 94/2021 Ps 8'})",
                )
            ]
        )
    payload = {
        "penalty": case.execution["penalty"],
        "executed_on": completed_on.isoformat(),
        "how": "COMPLETED",
    }
    events = [
        ev.dated(
            ev.PENALTY_EXECUTED,
            {**payload, "start_on": start.isoformat(), "end_on": end.isoformat()},
            completed_on,
        )
    ]
    return Outcome(events + closing(case.evolve(events), completed_on))


def closing(case: Case, on: date, reason: str = "EXECUTED") -> list[NewEvent]:
    """``sanctions.case_closed`` when the case has nothing left to wait for, else nothing."""
    if not case.closable:
        return []
    return [ev.dated(ev.CASE_CLOSED, {"reason": reason, "closed_on": on.isoformat()}, on)]


def add_months(day: date, count: int) -> date:
    """``day`` moved ``count`` months on (the 31st becomes the month's last day)."""
    month = day.month - 1 + count
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, months.monthrange(year, month)[1]))
