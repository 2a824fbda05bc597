"""Building an Outcome whose event carries the legal clocks it starts, meets or cancels.

The clocks are written twice on purpose: in the event payload (``deadlines``), so the read
model and the case fold show due dates from the log alone, and as ``DeadlineStart`` rows for
the scheduler (shared.handling). One helper builds both, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.adjudication.domain.rules import DeadlineRule
from shared.envelope import NewEvent
from shared.outcome import DeadlineStart, Outcome
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class Start:
    """A clock of ``kind`` that runs under ``rule`` from ``start``."""

    kind: str
    rule: DeadlineRule
    start: date

    def due_on(self, calendar: WorkingCalendar) -> date:
        """The last day: ``rule.days`` after ``start``, counted as the rule says."""
        return calendar.add_days(self.start, self.rule.days, self.rule.count)


def decision(
    event_type: str,
    payload: Mapping[str, Any],
    at: datetime,
    *,
    rule_set: str | None = None,
    calendar: WorkingCalendar | None = None,
    starts: Sequence[Start] = (),
    meets: Sequence[str] = (),
    meets_late: Sequence[str] = (),
    cancels: Sequence[str] = (),
    judged_on: date | None = None,
) -> Outcome:
    """One event, with its clocks in its payload and in the Outcome.

    ``meets_late``: clocks the event meets after their last day (the scheduler may not have
    recorded the lapse yet); the payload lists them under ``met_late`` and the case shows them
    MET_LATE. The scheduler's rows are closed as for ``meets``: nothing is left to lapse.
    ``judged_on``: the fact's legal date the two were told apart by (domain.corrections)."""
    body = dict(payload)
    starts_out = []
    started = []
    for start in starts:
        assert calendar is not None, "a clock needs the working calendar"
        due = start.due_on(calendar)
        started.append(
            {
                "kind": start.kind,
                "due_on": due.isoformat(),
                "day_count": start.rule.count.value,
                "days": start.rule.days,
                "from": start.start.isoformat(),
                "rule": start.rule.basis.id,
                "article": start.rule.basis.article,
            }
        )
        starts_out.append(DeadlineStart(start.kind, due, start.rule.count, rule_set))
    if started or meets or meets_late or cancels:
        body["deadlines"] = {"started": started, "met": list(meets), "cancelled": list(cancels)}
        if meets_late:
            body["deadlines"]["met_late"] = list(meets_late)
        if judged_on is not None and (meets or meets_late):
            body["deadlines"]["judged_on"] = judged_on.isoformat()
    event = NewEvent(event_type, body, at, rule_set=rule_set)
    return Outcome([event], starts=starts_out, meets=[*meets, *meets_late], cancels=list(cancels))
