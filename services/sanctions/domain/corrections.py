"""Valid time decides: a fact dated before a lapse the scheduler already recorded withdraws it.

Clerks enter facts after the fact. A keberatan filed on 10 April inside its window, typed in
after the scheduler closed the window on the 17th, is still a timely keberatan: the case must
end as it would have, had it been entered on the 10th. So a command is decided on the case as
it stood by valid time, without the scheduler's lapses dated after the command's own legal
date among the deadlines the command meets or makes moot (a timely keberatan meets the appeal
window and makes the penalty's taking effect moot; a delivery meets its deadline; a decision
the PPK's follow-up). Those lapses are withdrawn by ``sanctions.lapse_withdrawn``, appended
before the command's own events, which names each withdrawn event with its valid and record
times and says why; ``Case.of`` then leaves them out, and the read model takes the case as
the payload restates it. Nothing is deleted: the lapse stays in the log, marked withdrawn.

A lapse dated on or before the fact stands: a penalty in force on the 27th is suspended by a
keberatan filed on the 27th, exactly as if both had been entered in time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.delivery import APPEAL_WINDOW, TAKES_EFFECT
from shared.corrections import led_by, named, withdrawn
from shared.envelope import Envelope, NewEvent
from shared.legaltime import at_start_of, legal_date
from shared.outcome import Outcome

# The first event of each lapse the scheduler records, and the deadline whose lapse it is;
# a breach (deadline_missed) names its own kind. The events after it in the same run
# (execution, closing, escalation requests) are what the lapse caused.
_HEADS = {ev.APPEAL_WINDOW_CLOSED: APPEAL_WINDOW, ev.PENALTY_IN_FORCE: TAKES_EFFECT}


@dataclass(frozen=True)
class Lapse:
    """One lapse the scheduler recorded: its deadline kind, the day it took effect, its events."""

    kind: str
    lapsed_on: date
    events: tuple[Envelope, ...]


def lapses(history: Sequence[Envelope]) -> list[Lapse]:
    """The scheduler's lapses in ``history`` that no correction has withdrawn, in order."""
    found: list[Lapse] = []
    gone, previous = withdrawn(history), None
    for e in history:
        if e.event_id in gone:
            continue
        head = _HEADS.get(e.event_type) or (e.payload["kind"] if e.event_type == ev.DEADLINE_MISSED else None)
        if e.actor.get("id") != ev.SCHEDULER:
            previous = None
        elif head is not None:
            previous = Lapse(head, legal_date(datetime.fromisoformat(e.occurred_at)), (e,))
            found.append(previous)
        elif previous is not None:
            previous = Lapse(previous.kind, previous.lapsed_on, (*previous.events, e))
            found[-1] = previous
    return found


def by_valid_time(history: Sequence[Envelope], valid_on: date, decide: Callable[[Case], Outcome]) -> Outcome:
    """``decide`` on the case as it stood by valid time on ``valid_on``: the outcome, led by a
    ``lapse_withdrawn`` when lapses dated after ``valid_on`` of deadlines it meets or makes
    moot were recorded first. ``Outcome.reopens`` names the withdrawn lapses' first events,
    whose deadline rows the command then meets or cancels."""
    later = [lapse for lapse in lapses(history) if lapse.lapsed_on > valid_on]
    if not later:
        return decide(Case.of(history))
    # Decided once without every later lapse to learn which deadlines the fact concerns;
    # lapses of other deadlines stand, and the fact is decided again with them if any do.
    outcome = decide(Case.of(history, without=_ids(later)))
    touched = {*outcome.meets, *outcome.cancels}
    late = [lapse for lapse in later if lapse.kind in touched]
    if not late:
        return decide(Case.of(history))
    if len(late) < len(later):
        outcome = decide(Case.of(history, without=_ids(late)))
    if not outcome.events:
        return outcome
    correction = _withdrawal(history, late, outcome.events[0].event_type, valid_on)
    return led_by(correction, outcome, [lapse.events[0].event_id for lapse in late])


def _ids(found: Sequence[Lapse]) -> frozenset[str]:
    return frozenset(e.event_id for lapse in found for e in lapse.events)


def _withdrawal(history: Sequence[Envelope], late: Sequence[Lapse], fact: str, valid_on: date) -> NewEvent:
    events = [e for lapse in late for e in lapse.events]
    corrected = Case.of(history, without=_ids(late))
    kinds = ", ".join(lapse.kind for lapse in late)
    payload = {
        "fact": fact,
        "valid_on": valid_on.isoformat(),
        "withdrawn": [named(e) for e in events],
        "deadlines": [{"kind": lapse.kind, "lapsed_on": lapse.lapsed_on.isoformat()} for lapse in late],
        "reason": (
            f"{fact} dated {valid_on.isoformat()} was entered after the lapse of {kinds} was "
            "recorded: by the legal dates the deadline did not lapse unmet"
        ),
        "restored": _restated(corrected),
    }
    return NewEvent(ev.LAPSE_WITHDRAWN, payload, at_start_of(valid_on))


def _restated(case: Case) -> dict[str, Any]:
    """The read model's columns as the case stands once the lapses are withdrawn."""
    return {
        "state": case.state.value,
        "in_force": case.in_force,
        "in_force_on": case.in_force_on.isoformat() if case.in_force_on else None,
        "execution": dict(case.execution) if case.execution else None,
        "appeal_pending": case.appeal is not None,
    }
