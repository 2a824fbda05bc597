"""The deadline scheduler against real PostgreSQL: a lapse is recorded once, at the right
instant, even with two schedulers racing; a met deadline is never reported missed."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shared.clock import ManualClock
from shared.deadlines import DeadlineScheduler
from shared.envelope import Actor, Context
from shared.outcome import DueDeadline
from shared.schema import deadlines
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
