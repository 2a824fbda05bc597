"""The envelope's canonical bytes and hashes: stable, tamper-evident, strictly parsed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.clock import ManualClock
from shared.envelope import (
    GENESIS_HASH,
    Envelope,
    EnvelopeError,
    NewEvent,
    canonical_json,
    chain_hash,
    log_link,
    seal,
)
from tests.support.events import context, envelope


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()


def test_the_hash_covers_every_field_but_itself() -> None:
    sealed = envelope("case-1")
    assert sealed.hash == chain_hash(GENESIS_HASH, canonical_json(sealed.unsealed()))
    for changed in (
        replace(sealed, payload={"n": 2}),
        replace(sealed, actor={"id": "x", "role": "y"}),
        replace(sealed, stream_version=2),
        replace(sealed, recorded_at="2024-10-08T09:12:00.000001+00:00"),
    ):
        assert changed.computed_hash() != sealed.hash


def test_the_bytes_round_trip_exactly() -> None:
    sealed = envelope("case-1")
    assert Envelope.from_bytes(sealed.to_bytes()) == sealed
    assert Envelope.from_bytes(sealed.to_bytes()).to_bytes() == sealed.to_bytes()


def test_valid_time_keeps_its_zone_and_record_time_is_utc() -> None:
    wita = timezone(timedelta(hours=8))
    sealed = seal(
        NewEvent("test.happened", {}, occurred_at=datetime(2024, 10, 8, 9, 12, tzinfo=wita)),
        stream_id="case-1",
        stream_version=1,
        prev_hash=GENESIS_HASH,
        context=context(),
        recorded_at=datetime(2024, 10, 10, 10, 30, tzinfo=wita),
    )
    assert sealed.occurred_at == "2024-10-08T09:12:00.000000+08:00"
    assert sealed.recorded_at == "2024-10-10T02:30:00.000000+00:00"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"[1]", "a JSON object"),
        (b"{oops", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (json.dumps({"event_id": 1}).encode(), "event_id: must be str"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_reason(raw: bytes, problem: str) -> None:
    with pytest.raises(EnvelopeError, match=problem):
        Envelope.from_bytes(raw)


def test_unknown_and_missing_fields_are_named() -> None:
    body = json.loads(envelope("case-1").to_bytes())
    body["surprise"] = 1
    del body["payload"]
    with pytest.raises(EnvelopeError) as raised:
        Envelope.from_bytes(json.dumps(body).encode())
    assert "payload: missing" in str(raised.value) and "surprise: unknown field" in str(raised.value)


def test_the_log_link_depends_on_the_previous_link_and_the_event() -> None:
    assert log_link(GENESIS_HASH, "a" * 64) != log_link("1" * 64, "a" * 64)
    assert log_link(GENESIS_HASH, "a" * 64) != log_link(GENESIS_HASH, "b" * 64)


def test_the_manual_clock_only_moves_when_told() -> None:
    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(days=1)) == datetime(2024, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        ManualClock(datetime(2024, 1, 1))
