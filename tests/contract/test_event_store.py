"""One contract for the in-memory fake and the PostgreSQL store, so the fake cannot drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from shared.clock import ManualClock
from shared.envelope import GENESIS_HASH, log_link
from shared.eventstore import ConcurrencyError
from shared.schema import deadlines
from shared.uow import Claim, Deadline, InboxEntry, InMemoryUnitOfWork, SqlUnitOfWork, UnitOfWork
from shared.workdays import DayCount
from tests.support.events import context, event

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[UowFactory]:
    if request.param == "memory":
        shared = InMemoryUnitOfWork(clock)
        yield lambda: shared
    else:
        engine = request.getfixturevalue("engine")
        yield lambda: SqlUnitOfWork(engine, clock)


def append(make_uow: UowFactory, stream: str, count: int = 1, expected: int = 0) -> None:
    with make_uow() as uow:
        uow.events.append(
            stream, [event(n=i) for i in range(count)], expected_version=expected, context=context()
        )
        uow.commit()


def load(make_uow: UowFactory, stream: str) -> list:
    with make_uow() as uow:
        return uow.events.load(stream)


def test_appended_events_load_in_version_order_with_a_hash_chain(make_uow: UowFactory) -> None:
    append(make_uow, "case-1", count=3)
    loaded = load(make_uow, "case-1")
    assert [e.stream_version for e in loaded] == [1, 2, 3]
    assert loaded[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in loaded[1:]] == [e.hash for e in loaded[:-1]]
    assert all(e.computed_hash() == e.hash for e in loaded)


def test_appending_at_a_stale_version_is_a_conflict_and_writes_nothing(make_uow: UowFactory) -> None:
    append(make_uow, "case-1", count=2)
    with pytest.raises(ConcurrencyError) as raised:
        append(make_uow, "case-1", count=1, expected=1)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert len(load(make_uow, "case-1")) == 2


def test_a_new_stream_must_be_appended_at_version_zero(make_uow: UowFactory) -> None:
    with pytest.raises(ConcurrencyError):
        append(make_uow, "case-new", count=1, expected=3)
    assert load(make_uow, "case-new") == []


def test_leaving_the_unit_of_work_without_commit_keeps_nothing(make_uow: UowFactory) -> None:
    with make_uow() as uow:
        uow.events.append("case-1", [event()], expected_version=0, context=context())
    assert load(make_uow, "case-1") == []


def test_streams_chain_independently_and_the_service_log_chains_them_all(make_uow: UowFactory) -> None:
    append(make_uow, "case-a")
    append(make_uow, "case-b")
    append(make_uow, "case-a", expected=1)
    with make_uow() as uow:
        log = uow.events.read_all()
    assert [(r.envelope.stream_id, r.envelope.stream_version) for r in log] == [
        ("case-a", 1),
        ("case-b", 1),
        ("case-a", 2),
    ]
    assert [r.position for r in log] == [1, 2, 3]
    prev = GENESIS_HASH
    for recorded in log:
        assert recorded.log_prev_hash == prev
        assert recorded.log_hash == log_link(prev, recorded.envelope.hash)
        prev = recorded.log_hash


def test_read_all_resumes_after_a_position(make_uow: UowFactory) -> None:
    append(make_uow, "case-1", count=5)
    with make_uow() as uow:
        assert [r.position for r in uow.events.read_all(after_position=3, limit=10)] == [4, 5]
        assert [r.position for r in uow.events.read_all(after_position=0, limit=2)] == [1, 2]


def test_the_envelope_carries_the_context_and_the_clock(make_uow: UowFactory, clock: ManualClock) -> None:
    with make_uow() as uow:
        uow.events.append(
            "case-1", [event()], expected_version=0, context=context("report-9", causation_id="cmd-1")
        )
        uow.commit()
    [stored] = load(make_uow, "case-1")
    assert (stored.correlation_id, stored.causation_id) == ("report-9", "cmd-1")
    assert stored.actor == {"id": "tester", "role": "investigator"}
    assert stored.recorded_at == clock.now().isoformat(timespec="microseconds")


def test_the_inbox_remembers_only_committed_entries(make_uow: UowFactory) -> None:
    entry = InboxEntry("consumer", "event-1", "case-1", "topic", 0, 7)
    with make_uow() as uow:
        assert uow.claim("consumer", "case-1", entry) == Claim(quarantined=False, claimed=True)
    with make_uow() as uow:  # the first claim was rolled back
        assert uow.claim("consumer", "case-1", entry).claimed
        assert not uow.claim("consumer", "case-1", entry).claimed  # a duplicate in the same batch
        uow.commit()
    with make_uow() as uow:
        assert not uow.claim("consumer", "case-1", entry).claimed
        other = InboxEntry("other-consumer", "event-1", "case-1", "topic", 0, 7)
        assert uow.claim("other-consumer", "case-1", other).claimed
        assert uow.claim("consumer", "case-1", None) == Claim(quarantined=False, claimed=False)


def test_deadlines_are_kept_only_with_the_event_that_started_them(
    make_uow: UowFactory, request: pytest.FixtureRequest
) -> None:
    def schedule(commit: bool) -> str:
        with make_uow() as uow:
            version = len(uow.events.load("case-1"))
            [started] = uow.events.append("case-1", [event()], expected_version=version, context=context())
            due = Deadline("case-1", "summons", date(2024, 10, 17), DayCount.WORKING, started.event_id)
            uow.schedule(due)
            if commit:
                uow.commit()
            return started.event_id

    schedule(commit=False)
    kept = schedule(commit=True)
    assert [d.started_by for d in pending_deadlines(make_uow, request)] == [kept]


def test_an_event_that_meets_a_deadline_resolves_only_that_kind_of_that_case(
    make_uow: UowFactory, request: pytest.FixtureRequest
) -> None:
    with make_uow() as uow:
        for stream in ("case-1", "case-2"):
            [started] = uow.events.append(stream, [event()], expected_version=0, context=context())
            for kind in ("examination", "delivery"):
                uow.schedule(Deadline(stream, kind, date(2024, 3, 19), DayCount.WORKING, started.event_id))
        uow.commit()
    with make_uow() as uow:
        [met] = uow.events.append("case-1", [event()], expected_version=1, context=context())
        assert uow.resolve_deadlines("case-1", ["examination"], met.event_id) == 1
        uow.commit()
    left = {(d.stream_id, d.kind) for d in pending_deadlines(make_uow, request)}
    assert left == {("case-1", "delivery"), ("case-2", "examination"), ("case-2", "delivery")}


def pending_deadlines(make_uow: UowFactory, request: pytest.FixtureRequest) -> list[Deadline]:
    uow = make_uow()
    if isinstance(uow, InMemoryUnitOfWork):
        return [d for d in uow.deadlines if d not in uow.resolved]
    engine = request.getfixturevalue("engine")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(deadlines).where(deadlines.c.status == "PENDING")).all()
    return [Deadline(r.stream_id, r.kind, r.due_on, DayCount(r.day_count), str(r.started_by)) for r in rows]
