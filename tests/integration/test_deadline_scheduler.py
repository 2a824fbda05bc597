"""The deadline scheduler against real PostgreSQL: a lapse is recorded once, at the right
instant, even with two schedulers racing; a met deadline is never reported missed; a
failing deadline is set aside without blocking the rest; and commands meeting deadlines
while scheduler processes lapse them never deadlock."""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from multiprocessing.synchronize import Event as EventType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shared.clock import ManualClock
from shared.db import create_engine
from shared.deadlines import DeadlineScheduler, Expired
from shared.envelope import Actor, Context
from shared.eventstore import ConcurrencyError
from shared.outcome import DueDeadline
from shared.schema import deadlines, deadlines_set_aside
from shared.uow import Deadline, SqlUnitOfWork
from shared.workdays import DayCount
from tests.support.events import context, event

WIB = ZoneInfo("Asia/Jakarta")
SYSTEM = Actor(id="scheduler", role="system")


def record_missed(due: DueDeadline, uow: SqlUnitOfWork) -> str:
    version = len(uow.events.load(due.stream_id))
    ctx = Context(actor=SYSTEM, correlation_id=due.stream_id, causation_id=due.started_by)
    [missed] = uow.events.append(
        due.stream_id, [due.missed_event("test")], expected_version=version, context=ctx
    )
    return missed.event_id


def start_case(
    engine: sa.Engine, clock: ManualClock, case: str, due_on: date, kinds: tuple[str, ...]
) -> None:
    with SqlUnitOfWork(engine, clock) as uow:
        [started] = uow.events.append(case, [event()], expected_version=0, context=context())
        for kind in kinds:
            uow.schedule(Deadline(case, kind, due_on, DayCount.WORKING, started.event_id, "pp94-2021"))
        uow.commit()


def missed_events(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT stream_id, envelope FROM events WHERE event_type = 'test.deadline_missed'")
        )
        return [(r.stream_id, r.envelope) for r in rows]


def test_a_deadline_lapses_at_midnight_wib_after_its_last_day(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 3, 19, 23, 59, tzinfo=WIB))
    start_case(engine, clock, "case-b", date(2024, 3, 19), ("examination",))
    scheduler = DeadlineScheduler(engine, clock, record_missed, "test")

    assert scheduler.run_once() == 0  # the last day is not over
    clock.set(datetime(2024, 3, 20, 0, 0, tzinfo=WIB))
    assert scheduler.run_once() == 1
    [(stream, envelope)] = missed_events(engine)
    assert stream == "case-b"
    missed = json.loads(envelope)
    assert datetime.fromisoformat(missed["occurred_at"]) == datetime(2024, 3, 20, tzinfo=WIB)
    assert missed["payload"]["kind"] == "examination" and missed["rule_set"] == "pp94-2021"


def test_two_schedulers_record_each_lapse_exactly_once(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 11, 1, tzinfo=WIB))
    cases = [f"case-{n}" for n in range(40)]
    for case in cases:
        start_case(engine, clock, case, date(2024, 11, 22), ("second_summons", "ppk_follow_up"))
    clock.set(datetime(2024, 11, 25, 9, 0, tzinfo=WIB))
    schedulers = [DeadlineScheduler(engine, clock, record_missed, "test") for _ in range(2)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda s=s: counts.append(s.run_once())) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(counts) == 80
    per_case = sorted(stream for stream, _ in missed_events(engine))
    assert per_case == sorted(cases * 2)
    with engine.connect() as conn:
        statuses = conn.execute(
            sa.select(deadlines.c.status, sa.func.count()).group_by(deadlines.c.status)
        ).all()
    assert dict(statuses) == {"MISSED": 80}
    assert all(s.run_once() == 0 for s in schedulers)


def test_a_met_deadline_is_never_reported_missed(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=WIB))
    start_case(engine, clock, "case-met", date(2024, 3, 19), ("examination",))
    with SqlUnitOfWork(engine, clock) as uow:
        uow.events.load("case-met")
        [held] = uow.events.append("case-met", [event()], expected_version=1, context=context())
        uow.resolve_deadlines("case-met", ["examination"], held.event_id)
        uow.commit()
    clock.advance(timedelta(days=30))
    assert DeadlineScheduler(engine, clock, record_missed, "test").run_once() == 0
    assert missed_events(engine) == []


def test_a_lapse_the_service_no_longer_cares_about_is_cancelled_not_missed(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=WIB))
    start_case(engine, clock, "case-closed", date(2024, 3, 19), ("examination",))
    clock.advance(timedelta(days=30))
    assert DeadlineScheduler(engine, clock, lambda due, uow: None, "test").run_once() == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(deadlines.c.status)).scalar_one() == "CANCELLED"
    assert missed_events(engine) == []


def test_a_window_nobody_had_to_act_in_is_expired_not_missed(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=WIB))
    start_case(engine, clock, "case-window", date(2024, 3, 19), ("appeal_window",))
    clock.advance(timedelta(days=30))

    def closed(due: DueDeadline, uow: SqlUnitOfWork) -> Expired:
        return Expired(record_missed(due, uow))

    assert DeadlineScheduler(engine, clock, closed, "test").run_once() == 1
    with engine.connect() as conn:
        status, resolved_by = conn.execute(sa.select(deadlines.c.status, deadlines.c.resolved_by)).one()
    [(_stream, envelope)] = missed_events(engine)
    assert status == "EXPIRED" and str(resolved_by) in envelope


def test_a_deadline_that_fails_is_set_aside_with_its_reason_and_the_rest_go_on(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=WIB))
    start_case(engine, clock, "case-broken", date(2024, 3, 18), ("examination",))  # the earliest
    start_case(engine, clock, "case-fine", date(2024, 3, 19), ("examination",))
    broken = {"case-broken"}

    def handler(due: DueDeadline, uow: SqlUnitOfWork) -> str:
        if due.stream_id in broken:
            raise RuntimeError("no rule for this deadline in the rule book")
        return record_missed(due, uow)

    scheduler = DeadlineScheduler(engine, clock, handler, "test")
    clock.set(datetime(2024, 3, 21, 9, tzinfo=WIB))
    assert scheduler.run_once() == 1  # the failing one does not block the one behind it
    assert [stream for stream, _ in missed_events(engine)] == ["case-fine"]
    [aside] = set_aside_rows(engine)
    assert aside.attempts == 1 and len(aside.error_id) == 12
    assert aside.reason == (
        "examination of case case-broken: RuntimeError: no rule for this deadline in the rule book"
    )
    assert aside.retry_after == clock.now() + timedelta(seconds=60)
    assert scheduler.run_once() == 0  # waits for its retry time, not tried on every pass

    clock.advance(timedelta(seconds=61))
    assert scheduler.run_once() == 0  # still failing: set aside again, for twice as long
    [again] = set_aside_rows(engine)
    assert again.attempts == 2 and again.retry_after == clock.now() + timedelta(seconds=120)

    broken.clear()  # e.g. an administrator corrected the rule data
    clock.advance(timedelta(seconds=121))
    assert scheduler.run_once() == 1
    assert sorted(stream for stream, _ in missed_events(engine)) == ["case-broken", "case-fine"]
    assert set_aside_rows(engine) == []


def set_aside_rows(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(deadlines_set_aside)).all())


def lapse_in_a_loop(url: str, now: str, until: float, ready: EventType) -> None:
    """A scheduler process: record lapses until none is left (or ``until``); raise on error."""
    engine = create_engine(url, pool_size=1)
    scheduler = DeadlineScheduler(engine, ManualClock(datetime.fromisoformat(now)), slow_missed, "test")
    ready.set()
    while time.time() < until:
        scheduler.run_once()
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM deadlines WHERE status = 'PENDING'")).first():
                return


def slow_missed(due: DueDeadline, uow: SqlUnitOfWork) -> str:
    # Some work between taking the deadline and appending, as a real handler has.
    uow.connection.execute(sa.text("SELECT pg_sleep(0.005)"))
    return record_missed(due, uow)


def meet(engine: sa.Engine, clock: ManualClock, case: str) -> None:
    """A command that meets the case's deadline: append, a little work, then resolve."""
    while True:
        try:
            with SqlUnitOfWork(engine, clock) as uow:
                version = len(uow.events.load(case))
                [met] = uow.events.append(case, [event()], expected_version=version, context=context())
                uow.connection.execute(sa.text("SELECT pg_sleep(0.005)"))
                uow.resolve_deadlines(case, ["examination"], met.event_id)
                uow.commit()
                return
        except ConcurrencyError:
            continue  # a scheduler recorded the lapse first: reload, as a client would


CASES = 200


def test_commands_meeting_deadlines_while_two_scheduler_processes_lapse_them_never_deadlock(
    engine: sa.Engine,
) -> None:
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=WIB))
    cases = [f"case-{n}" for n in range(CASES)]
    for case in cases:
        start_case(engine, clock, case, date(2024, 3, 19), ("examination",))
    clock.set(datetime(2024, 3, 21, 9, tzinfo=WIB))
    url = engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    until, ready = time.time() + 60, [spawn.Event() for _ in range(2)]
    schedulers = [
        spawn.Process(target=lapse_in_a_loop, args=(url, clock.now().isoformat(), until, r)) for r in ready
    ]
    for process in schedulers:
        process.start()
    assert all(r.wait(60) for r in ready)
    random.Random(7).shuffle(cases)  # the schedulers go in due order; commands in any order
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda case: meet(engine, clock, case), cases))  # raises a deadlock, if any
    for process in schedulers:
        process.join(90)

    assert [p.exitcode for p in schedulers] == [0, 0]  # no scheduler met a deadlock either
    with engine.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(sa.select(deadlines.c.status, sa.func.count()).group_by(deadlines.c.status)).all()
        )
    assert sum(statuses.values()) == CASES and set(statuses) <= {"MET", "MISSED"}
    assert len(missed_events(engine)) == statuses.get("MISSED", 0)  # each lapse recorded once
