"""Causal order and time cuts of a case history, on sealed envelopes (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from netra.audit.history import CaseEvent, causal_order, history_of, parse_instant
from shared.envelope import GENESIS_HASH, Context, Envelope, NewEvent, seal
from tests.support.events import ACTOR

T0 = datetime(2024, 10, 1, tzinfo=UTC)


def sealed(
    kind: str,
    version: int,
    prev: str,
    recorded: int,
    cause: Envelope | None = None,
    occurred: int = 0,
    payload: dict[str, Any] | None = None,
) -> Envelope:
    return seal(
        NewEvent(kind, payload or {}, occurred_at=T0 + timedelta(days=occurred)),
        stream_id="case-1",
        stream_version=version,
        prev_hash=prev,
        context=Context(ACTOR, "report-1", cause.event_id if cause else None),
        recorded_at=T0 + timedelta(seconds=recorded),
    )


def test_an_effect_follows_its_cause_even_when_its_clock_says_earlier() -> None:
    received = sealed("intake.report_received", 1, GENESIS_HASH, recorded=10)
    # adjudication's clock runs behind intake's: by record time it would come first
    opened = sealed("adjudication.examination_opened", 1, GENESIS_HASH, recorded=5, cause=received)
    ordered = causal_order([CaseEvent("adjudication", 1, opened), CaseEvent("intake", 1, received)])
    assert [e.envelope.event_type for e in ordered] == [
        "intake.report_received",
        "adjudication.examination_opened",
    ]


def test_independent_events_are_ordered_by_record_time() -> None:
    first = sealed("intake.report_received", 1, GENESIS_HASH, recorded=1)
    later = sealed("sanctions.note", 1, GENESIS_HASH, recorded=3)
    middle = sealed("adjudication.note", 1, GENESIS_HASH, recorded=2)
    events = [
        CaseEvent("sanctions", 1, later),
        CaseEvent("adjudication", 1, middle),
        CaseEvent("intake", 1, first),
    ]
    assert [e.service for e in causal_order(events)] == ["intake", "adjudication", "sanctions"]


def test_as_of_cuts_by_record_time_or_by_valid_time() -> None:
    old_fact_learned_late = sealed("intake.report_received", 1, GENESIS_HASH, recorded=100, occurred=0)
    events = [CaseEvent("intake", 1, old_fact_learned_late)]
    cut = T0 + timedelta(seconds=50)
    assert history_of("case-1", events, as_of=cut, time="record").events == []
    assert len(history_of("case-1", events, as_of=cut, time="valid").events) == 1


def test_a_withdrawn_lapse_is_marked_by_record_time_and_left_out_by_valid_time() -> None:
    # Window closed on day 10 (recorded at 10 s); a keberatan of day 5 entered at 20 s.
    closed = sealed("sanctions.appeal_window_closed", 1, GENESIS_HASH, recorded=10, occurred=10)
    withdrawal = {"withdrawn": [{"event_id": closed.event_id}]}
    fixed = sealed("sanctions.lapse_withdrawn", 2, closed.hash, recorded=20, occurred=5, payload=withdrawal)
    filed = sealed("sanctions.objection_filed", 3, fixed.hash, recorded=20, occurred=5)
    events = [CaseEvent("sanctions", i, e) for i, e in enumerate((closed, fixed, filed), 1)]

    def types(history: Any) -> list[str]:
        return [e.envelope.event_type for e in history.events]

    known_then = history_of("case-1", events, as_of=T0 + timedelta(seconds=15), time="record")
    assert (types(known_then), known_then.withdrawn) == (["sanctions.appeal_window_closed"], {})
    known_now = history_of("case-1", events, time="record")
    assert known_now.withdrawn == {closed.event_id: fixed.event_id}
    assert "[withdrawn by" in known_now.text().splitlines()[1]
    corrected = history_of("case-1", events, as_of=T0 + timedelta(days=30), time="valid")
    assert types(corrected) == ["sanctions.lapse_withdrawn", "sanctions.objection_filed"]


def test_an_instant_must_name_its_offset() -> None:
    assert parse_instant("2024-11-01T00:00:00+07:00") == datetime(2024, 10, 31, 17, tzinfo=UTC)
    for bad in ("2024-11-01T00:00:00", "tomorrow"):
        try:
            parse_instant(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
