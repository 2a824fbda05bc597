"""Valid time decides: a fact that meets a clock in time withdraws the breach recorded first.

Adjudication judges each fact against its clock by the fact's own legal date (a second summons
dated after its 7 working days meets its clock late: ``met_late``). When a fact dated inside
its clock is entered after the scheduler recorded the clock's lapse, the breach was wrong by
the legal dates: ``adjudication.lapse_withdrawn`` leads the fact's events, naming the breach
(and the PPK non-compliance it caused) with both their times and why. The case is folded
without them and the clock ends MET, as it would have had the fact been entered in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from services.adjudication.domain import events as ev
from shared.corrections import led_by, named, withdrawn
from shared.envelope import Envelope, NewEvent
from shared.legaltime import at_start_of
from shared.outcome import Outcome


def withdrawing_breaches(history: Sequence[Envelope], outcome: Outcome) -> Outcome:
    """``outcome``, led by a ``lapse_withdrawn`` when it meets in time a clock whose breach the
    scheduler already recorded; ``Outcome.reopens`` names the breaches for their rows."""
    if not outcome.events:
        return outcome
    first = outcome.events[0]
    clocks = first.payload.get("deadlines") or {}
    if not clocks.get("met") or "judged_on" not in clocks:
        return outcome
    # "met" is in time by the fact's own date (Case.met_by); the breach's due date must agree.
    valid_on = date.fromisoformat(clocks["judged_on"])
    late = [
        group
        for group in breaches(history)
        if group[0].payload["kind"] in clocks["met"]
        and valid_on <= date.fromisoformat(group[0].payload["due_on"])
    ]
    if not late:
        return outcome
    events = [e for group in late for e in group]
    kinds = ", ".join(group[0].payload["kind"] for group in late)
    payload = {
        "fact": first.event_type,
        "valid_on": valid_on.isoformat(),
        "withdrawn": [named(e) for e in events],
        "deadlines": [{"kind": g[0].payload["kind"], "due_on": g[0].payload["due_on"]} for g in late],
        "reason": (
            f"{first.event_type} dated {valid_on.isoformat()} meets {kinds} in time but was entered "
            "after its lapse was recorded: by the legal dates the clock was not missed"
        ),
    }
    correction = NewEvent(ev.LAPSE_WITHDRAWN, payload, at_start_of(valid_on))
    return led_by(correction, outcome, [group[0].event_id for group in late])


def breaches(history: Sequence[Envelope]) -> list[list[Envelope]]:
    """Each breach still standing in ``history``: its ``deadline_missed`` and what the same
    lapse recorded with it (a PPK's non-compliance)."""
    found: list[list[Envelope]] = []
    gone = withdrawn(history)
    for e in history:
        if e.event_id in gone:
            continue
        if e.event_type == ev.DEADLINE_MISSED:
            found.append([e])
        elif e.event_type == ev.PPK_NONCOMPLIANCE_RECORDED and found and _same_lapse(found[-1][0], e):
            found[-1].append(e)
    return found


def _same_lapse(breach: Envelope, e: Envelope) -> bool:
    return (
        breach.causation_id == e.causation_id
        and breach.recorded_at == e.recorded_at
        and datetime.fromisoformat(breach.occurred_at) == datetime.fromisoformat(e.occurred_at)
    )
