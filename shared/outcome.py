"""What a pure decider returns, and the lapsed deadline it may be asked about.

The vocabulary between the domain and the plumbing: a service's ``domain`` package builds
these and ``shared.handling.carry_out`` records them. Nothing here touches a database, HTTP
or Kafka, so a domain that imports it still imports alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.envelope import NewEvent
from shared.legaltime import at_start_of
from shared.workdays import DayCount

DEADLINE_MISSED = "deadline_missed"


@dataclass(frozen=True)
class DeadlineStart:
    """A legal deadline a decision starts: its last day and how its days were counted."""

    kind: str
    due_on: date
    day_count: DayCount
    rule_set: str | None = None
    # Which of the outcome's events started it (its id is the deadline's ``started_by``).
    started_by: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the domain decided: events to append, clocks they start, and deadline kinds they
    meet (``meets``) or make moot (``cancels``). ``reopens`` names recorded lapses the events
    withdraw (by the id of the event that recorded each): their deadlines are pending again
    before ``meets`` and ``cancels`` close them."""

    events: Sequence[NewEvent]
    starts: Sequence[DeadlineStart] = ()
    meets: Sequence[str] = ()
    cancels: Sequence[str] = ()
    reopens: Sequence[str] = ()


@dataclass(frozen=True)
class DueDeadline:
    """A pending deadline whose last day has passed."""

    deadline_id: str
    stream_id: str
    kind: str
    due_on: date
    day_count: DayCount
    rule_set: str | None
    started_by: str

    @property
    def lapsed_at(self) -> datetime:
        """The instant the deadline lapsed: midnight WIB after its last day."""
        return at_start_of(self.due_on + timedelta(days=1))

    def missed_event(self, service: str, **extra: Any) -> NewEvent:
        """``<service>.deadline_missed`` for this deadline, dated when it lapsed, so a replay
        of the same row yields the same event whenever the scheduler happened to run."""
        payload = {
            "deadline_id": self.deadline_id,
            "kind": self.kind,
            "due_on": self.due_on.isoformat(),
            "day_count": self.day_count.value,
            "started_by": self.started_by,
            **extra,
        }
        return NewEvent(f"{service}.{DEADLINE_MISSED}", payload, self.lapsed_at, rule_set=self.rule_set)
