"""The vocabulary of a withdrawn lapse, shared by the services that record one.

A lapse the scheduler recorded before a fact dated earlier was entered is withdrawn, never
deleted: ``<service>.lapse_withdrawn`` names each withdrawn event in ``withdrawn`` (its id,
type, valid and record time, and the deadline ``kind`` of a breach). A service's fold leaves
the named events out (``withdrawn``); ``netra audit history`` marks them (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from shared.envelope import Envelope, NewEvent
from shared.outcome import Outcome

SUFFIX = ".lapse_withdrawn"


def withdrawals(history: Iterable[Envelope]) -> dict[str, str]:
    """Withdrawn event id -> the id of the ``*.lapse_withdrawn`` in ``history`` that names it."""
    return {
        w["event_id"]: e.event_id
        for e in history
        if e.event_type.endswith(SUFFIX)
        for w in e.payload.get("withdrawn", [])
    }


def withdrawn(history: Iterable[Envelope]) -> frozenset[str]:
    """The ids of the events that corrections in ``history`` withdrew."""
    return frozenset(withdrawals(history))


def named(e: Envelope) -> dict[str, Any]:
    """How a correction names an event it withdraws: both its times, and a breach's kind."""
    entry = {
        "event_id": e.event_id,
        "event_type": e.event_type,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
    }
    if e.event_type.endswith(".deadline_missed"):
        entry["kind"] = e.payload["kind"]
    return entry


def led_by(correction: NewEvent, outcome: Outcome, reopens: Sequence[str]) -> Outcome:
    """``outcome`` with ``correction`` appended first, reopening the lapses recorded by the
    events ``reopens`` names (their deadlines are then met or cancelled by ``outcome``)."""
    return Outcome(
        [correction, *outcome.events],
        # The correction leads, so each clock's starting event is one further on.
        starts=[replace(s, started_by=s.started_by + 1) for s in outcome.starts],
        meets=outcome.meets,
        cancels=outcome.cancels,
        reopens=reopens,
    )
