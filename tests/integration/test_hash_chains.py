"""Tampering with the stored log in PostgreSQL is caught by the verifier, which names the event."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from shared.clock import ManualClock
from shared.envelope import Envelope, canonical_json, chain_hash, log_link
from shared.uow import SqlUnitOfWork
from shared.verify import verify_store
from tests.support.events import context, event


@pytest.fixture
def log(engine: sa.Engine, clock: ManualClock) -> sa.Engine:
    """Three cases with three events each, interleaved: positions 1..9."""
    for version in range(3):
        for case in ("case-a", "case-b", "case-c"):
            with SqlUnitOfWork(engine, clock) as uow:
                uow.events.append(case, [event(step=version)], expected_version=version, context=context())
                uow.commit()
    return engine


def tamper(engine: sa.Engine, *statements: str, **params: object) -> None:
    """Run SQL as an intruder would: superuser, append-only trigger bypassed."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(sa.text(statement), params)


def row(engine: sa.Engine, position: int) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM events WHERE position = :p"), {"p": position}).one()


def test_an_untouched_log_verifies_clean(log: sa.Engine) -> None:
    report = verify_store(log)
    assert report.ok, report.flaws
    assert (report.events, report.streams, report.head_position) == (9, 3, 9)


def test_the_store_refuses_updates_and_deletes_of_events(log: sa.Engine) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), log.begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE position = 1"))


def test_an_edited_payload_is_detected_and_named(log: sa.Engine) -> None:
    target = row(log, 5)
    body = json.loads(target.envelope)
    body["payload"]["step"] = 99
    tamper(log, "UPDATE events SET envelope = :e WHERE position = 5", e=canonical_json(body).decode())
    flaws = verify_store(log).flaws
    assert [(f.position, f.event_id) for f in flaws] == [(5, str(target.event_id))]
    assert "edited" in flaws[0].problem


def test_a_deleted_event_is_detected_at_the_gap_it_leaves(log: sa.Engine) -> None:
    deleted, after = row(log, 4), row(log, 5)
    tamper(log, "DELETE FROM events WHERE position = 4")
    flaws = verify_store(log).flaws
    messages = [str(f) for f in flaws]
    assert any(f.position == 5 and "missing" in f.problem for f in flaws), messages
    assert any(f.event_id == str(after.event_id) and "service log chain" in f.problem for f in flaws)
    # the next event of the deleted event's case points at a hash that is no longer there
    assert any(f.stream_id == deleted.stream_id and "case" in f.problem for f in flaws), messages


def test_two_swapped_events_are_detected(log: sa.Engine) -> None:
    first, second = row(log, 1), row(log, 4)  # case-a v1 and case-a v2
    tamper(
        log,
        "UPDATE events SET position = -1 WHERE position = 1",
        "UPDATE events SET position = 1 WHERE position = 4",
        "UPDATE events SET position = 4 WHERE position = -1",
    )
    flaws = verify_store(log).flaws
    named = {f.event_id for f in flaws}
    assert {str(first.event_id), str(second.event_id)} <= named
    assert any("case version 2 follows version 0" in f.problem for f in flaws)


def test_a_forged_event_with_a_correct_case_hash_breaks_the_service_chain(log: sa.Engine) -> None:
    last_of_case = Envelope.from_bytes(row(log, 7).envelope.encode())  # case-a v3
    forged = Envelope(
        **{
            **last_of_case.__dict__,
            "event_id": str(uuid.uuid4()),
            "stream_version": 4,
            "prev_hash": last_of_case.hash,
            "payload": {"step": "forged"},
            "hash": "",
        }
    )
    forged = Envelope(**{**forged.__dict__, "hash": forged.computed_hash()})
    head = row(log, 9)
    tamper(
        log,
        "INSERT INTO events (position, event_id, stream_id, stream_version, event_type, occurred_at,"
        " recorded_at, envelope, hash, log_prev_hash, log_hash)"
        " VALUES (10, :id, 'case-a', 4, :type, now(), now(), :env, :hash, :prev, :log)",
        id=forged.event_id,
        type=forged.event_type,
        env=forged.to_bytes().decode(),
        hash=forged.hash,
        prev=row(log, 8).log_hash,  # the intruder links to the wrong predecessor
        log=chain_hash(head.log_hash, b"forged"),
    )
    flaws = verify_store(log).flaws
    assert flaws and all(f.event_id == forged.event_id for f in flaws)
    assert any("service log" in f.problem for f in flaws)
    assert log_link(head.log_hash, forged.hash) != chain_hash(head.log_hash, b"forged")
