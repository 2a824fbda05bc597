"""One case's history across the three services, in causal order, as of any instant.

Each service's store is read for the case's stream (read-only). The order is causal: an
event comes after the event that caused it (its causation id, across services) and after
the previous event of its own stream; among events free to come next, the one recorded
first goes first. ``as_of`` cuts the history at an instant by record time (what Netra knew
then) or by valid time (what had happened by then, as known now).

A lapse recorded before a fact dated earlier was entered is withdrawn by a
``<service>.lapse_withdrawn`` event (services/sanctions/domain/corrections.py). By record time
the withdrawn events stay, marked by the correction once it is known at the cut; by valid
time, as known now, they never happened and are left out: the corrected story.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from shared.config import SERVICES, Settings
from shared.corrections import withdrawals
from shared.db import create_engine
from shared.envelope import Envelope

TimeAxis = Literal["record", "valid"]


@dataclass(frozen=True)
class CaseEvent:
    """An event of the case with the service and log position it was recorded at."""

    service: str
    position: int
    envelope: Envelope
    log_prev_hash: str = ""
    log_hash: str = ""


@dataclass
class CaseHistory:
    """The case's events up to the cut, in causal order, and the state they add up to."""

    case_id: str
    as_of: datetime | None
    time: TimeAxis
    events: list[CaseEvent] = field(default_factory=list)
    # Whether any service has events of the case at all (even if none before the cut).
    known: bool = False
    # Withdrawn event id -> the id of the correction that withdrew it (known at the cut).
    withdrawn: dict[str, str] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """Per service: the case's version and last event; and intake's partner-facing stage."""
        services: dict[str, Any] = {}
        stage = None
        for item in self.events:
            e = item.envelope
            services[item.service] = {
                "version": e.stream_version,
                "last_event": e.event_type,
                "occurred_at": e.occurred_at,
                "recorded_at": e.recorded_at,
            }
            if e.event_type == "intake.case_stage_changed":
                stage = e.payload.get("stage")
            elif item.service == "intake" and stage is None and e.event_type != "intake.report_received":
                stage = "RECEIVED"
        return {"services": services, "stage": stage, "events": len(self.events)}

    def as_json(self) -> dict[str, Any]:
        """The history as a JSON-ready dict (envelopes as recorded)."""
        return {
            "case_id": self.case_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "time": self.time,
            "state": self.state(),
            "events": [
                {
                    "service": i.service,
                    "position": i.position,
                    "envelope": i.envelope.as_dict(),
                    "withdrawn_by": self.withdrawn.get(i.envelope.event_id),
                }
                for i in self.events
            ],
        }

    def text(self) -> str:
        """The history for people: one line per event, then the state."""
        cut = f" as of {self.as_of.isoformat()} ({self.time} time)" if self.as_of else ""
        lines = [f"case {self.case_id}{cut}: {len(self.events)} events"]
        for item in self.events:
            e = item.envelope
            cause = f" ← {e.causation_id}" if e.causation_id else ""
            gone = f"  [withdrawn by {self.withdrawn[e.event_id]}]" if e.event_id in self.withdrawn else ""
            lines.append(
                f"  {e.recorded_at}  {item.service:<12} v{e.stream_version:<3} {e.event_type}"
                f"  (occurred {e.occurred_at}; {e.event_id}{cause}){gone}"
            )
        state = self.state()
        lines.append(
            f"state: stage {state['stage']}; "
            + ", ".join(f"{s} v{v['version']} {v['last_event']}" for s, v in state["services"].items())
        )
        return "\n".join(lines)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant that names its offset (a bare local time is ambiguous)."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 instant (e.g. 2024-11-01T00:00:00+07:00)") from exc
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: say which instant, e.g. 2024-11-01T00:00:00+07:00")
    return instant


def case_history(
    settings: Settings, case_id: str, *, as_of: datetime | None = None, time: TimeAxis = "record"
) -> CaseHistory:
    """The case's events from every service's store, in causal order, cut at ``as_of``."""
    found: list[CaseEvent] = []
    for service in SERVICES:
        engine = create_engine(settings.database_url(service), pool_size=1)
        try:
            found += load_case_events(engine, service, case_id)
        finally:
            engine.dispose()
    return history_of(case_id, found, as_of=as_of, time=time)


def load_case_events(engine: sa.Engine, service: str, case_id: str) -> list[CaseEvent]:
    """One service's events of the case, in version order."""
    query = sa.text(
        "SELECT position, envelope, log_prev_hash, log_hash FROM events "
        "WHERE stream_id = :c ORDER BY stream_version"
    )
    with engine.connect() as conn:
        return [
            CaseEvent(
                service, r.position, Envelope.from_bytes(r.envelope.encode()), r.log_prev_hash, r.log_hash
            )
            for r in conn.execute(query, {"c": case_id})
        ]


def history_of(
    case_id: str, events: Iterable[CaseEvent], *, as_of: datetime | None = None, time: TimeAxis = "record"
) -> CaseHistory:
    """Order ``events`` causally and cut them at ``as_of``."""
    every = list(events)
    history = CaseHistory(case_id, as_of, time, known=bool(every))
    kept = [e for e in every if as_of is None or _instant(e, time) <= as_of]
    # By valid time the story is as known now: every correction counts, whatever its date.
    history.withdrawn = withdrawals(e.envelope for e in (every if time == "valid" else kept))
    if time == "valid":
        kept = [e for e in kept if e.envelope.event_id not in history.withdrawn]
    history.events = causal_order(kept)
    return history


def causal_order(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """Topological order (cause before effect, version before version), earliest recorded
    first among the events that are free to come next."""
    items = list(events)
    by_id = {e.envelope.event_id: e for e in items}
    waits_on: dict[str, list[str]] = {e.envelope.event_id: [] for e in items}
    previous: dict[tuple[str, str], str] = {}
    for e in sorted(items, key=lambda i: (i.service, i.envelope.stream_version)):
        key = (e.service, e.envelope.stream_id)
        if key in previous:
            waits_on[e.envelope.event_id].append(previous[key])
        previous[key] = e.envelope.event_id
        cause = e.envelope.causation_id
        if cause in by_id and cause != e.envelope.event_id:
            waits_on[e.envelope.event_id].append(cause)
    return _kahn(by_id, waits_on)


def _kahn(by_id: Mapping[str, CaseEvent], waits_on: Mapping[str, list[str]]) -> list[CaseEvent]:
    blocking: dict[str, list[str]] = {i: [] for i in by_id}
    remaining = {i: len(deps) for i, deps in waits_on.items()}
    for event_id, deps in waits_on.items():
        for dep in deps:
            blocking[dep].append(event_id)
    ready = [_rank(by_id[i]) for i, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        *_, event_id = heapq.heappop(ready)
        ordered.append(by_id[event_id])
        for follower in blocking[event_id]:
            remaining[follower] -= 1
            if remaining[follower] == 0:
                heapq.heappush(ready, _rank(by_id[follower]))
    # A cycle can only come from tampered causation ids: keep those events, by record time.
    rest = sorted((by_id[i] for i, n in remaining.items() if n > 0), key=_rank)
    return ordered + rest


def _rank(e: CaseEvent) -> tuple[datetime, str, int, str]:
    return (
        datetime.fromisoformat(e.envelope.recorded_at),
        e.service,
        e.envelope.stream_version,
        e.envelope.event_id,
    )


def _instant(e: CaseEvent, time: TimeAxis) -> datetime:
    return datetime.fromisoformat(e.envelope.recorded_at if time == "record" else e.envelope.occurred_at)
