"""Small builders for tests: contexts, new events and sealed envelopes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal

ACTOR = Actor(id="tester", role="investigator")
AT = datetime(2024, 10, 8, 9, 12, tzinfo=UTC)


def context(correlation_id: str = "report-1", causation_id: str | None = None) -> Context:
    return Context(actor=ACTOR, correlation_id=correlation_id, causation_id=causation_id)


def event(kind: str = "test.something_happened", **payload: Any) -> NewEvent:
    return NewEvent(event_type=kind, payload=payload or {"n": 1}, occurred_at=AT)


def envelope(stream_id: str, version: int = 1, prev_hash: str = GENESIS_HASH, **payload: Any) -> Envelope:
    return seal(
        event(**payload),
        stream_id=stream_id,
        stream_version=version,
        prev_hash=prev_hash,
        context=context(),
        recorded_at=AT,
    )
