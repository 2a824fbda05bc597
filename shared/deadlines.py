"""The scheduler that turns a lapsed legal deadline into an event, exactly once.

A deadline is a row in ``deadlines``, written by ``uow.schedule`` in the same transaction as
the event that started its clock (docs/architecture.md §3). The event that meets it resolves it
(``uow.resolve_deadlines``) in its own transaction. What is left PENDING after its last day
has lapsed: the scheduler takes the service-log lock (the first lock of every writer, so a
command meeting the deadline at that moment cannot deadlock with it), locks the row with
``FOR UPDATE SKIP LOCKED``, asks the service what the lapse means (``MissedHandler``:
usually a ``<service>.deadline_missed`` event in the case stream, sometimes an escalation
too) and marks the row MISSED in that same transaction (EXPIRED when the deadline was a
window nobody had to act in, ``Expired``). Two schedulers can run side by
side: once a transaction commits the row is no longer PENDING, so the lapse is recorded once.

A deadline whose handler fails (a bug, a refusal, a rule the data cannot satisfy) is set
aside in ``deadlines_set_aside`` with the reason and the id of the logged traceback, and
tried again later with backoff; the deadlines behind it go on (``netra deadlines``).

A deadline's last day is a date in the law's own terms. It lapses at the end of that day in
Western Indonesian Time (WIB): the westernmost of Indonesia's zones, so the day is over
everywhere in the country when the scheduler acts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.clock import Clock
from shared.db import is_unavailable, lost_race
from shared.legaltime import legal_date
from shared.logs import withheld
from shared.outcome import DueDeadline
from shared.schema import deadlines as deadlines_table
from shared.schema import deadlines_set_aside as set_aside
from shared.uow import SqlUnitOfWork
from shared.workdays import DayCount

log = logging.getLogger(__name__)

# Lost races for one deadline in one pass before it is set aside: the scheduler takes the
# service-log lock before the row, so a race needs a writer outside that order.
MAX_CONFLICTS = 5
# A deadline whose handler fails is tried again after a minute, then at doubling intervals
# up to a day: a fix (new rule data, a corrected bug) is picked up without anyone's help.
RETRY_FIRST_S = 60
RETRY_MAX_S = 24 * 3600


@dataclass(frozen=True)
class Expired:
    """A window that closed with nobody bound to act in it (a penalty's time to take effect,
    the time to appeal): its lapse is recorded by ``event_id``, and it is no one's breach."""

    event_id: str


# What a lapse means for the service: append its events (and project them) in ``uow``; return
# the id of the event that records a breached duty (the row is marked MISSED), ``Expired`` for
# a window that closed (EXPIRED), or None when the case no longer cares (CANCELLED).
MissedHandler = Callable[[DueDeadline, SqlUnitOfWork], "str | Expired | None"]


def last_open_day(clock: Clock) -> date:
    """The latest last day that has not yet lapsed: today in WIB."""
    return legal_date(clock.now())


class LapseFailed(Exception):
    """Recording the lapse of ``due`` failed with ``error``; nothing of it was written."""

    def __init__(self, due: DueDeadline, error: Exception) -> None:
        super().__init__(f"{due.kind} of case {due.stream_id}: {type(error).__name__}: {withheld(error)}")
        self.due, self.error = due, error


def retry_delay_s(attempts: int) -> int:
    """How long a deadline set aside ``attempts`` times waits before it is tried again."""
    return int(min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MAX_S))


class DeadlineScheduler:
    """Records lapsed deadlines for one service's database."""

    def __init__(self, engine: sa.Engine, clock: Clock, on_missed: MissedHandler, service: str) -> None:
        self._engine = engine
        self._clock = clock
        self._on_missed = on_missed
        self.service = service

    def run_once(self) -> int:
        """Record every deadline that has lapsed by now; return how many were recorded.

        A deadline whose lapse cannot be recorded is set aside with its reason (see
        ``set_aside``) and the ones behind it go on; only an unreachable database stops
        the pass (OperationalError), to be tried again on the next one."""
        recorded, conflicts = 0, Counter[str]()
        while True:
            try:
                if self._record_next(last_open_day(self._clock)) is None:
                    return recorded
                recorded += 1
            except LapseFailed as failed:
                key = failed.due.deadline_id
                if lost_race(failed.error) and conflicts[key] < MAX_CONFLICTS:
                    # Another writer appended to the case first; the rollback released the
                    # row, so take it again against the new head.
                    conflicts[key] += 1
                    continue
                self._set_aside(failed)

    def run(self, stop: threading.Event, interval_s: float = 30.0) -> None:
        """Check for lapsed deadlines every ``interval_s`` seconds until ``stop`` is set."""
        log.info("deadline scheduler started", extra={"service": self.service})
        while not stop.is_set():
            try:
                if count := self.run_once():
                    log.info("recorded lapsed deadlines", extra={"service": self.service, "count": count})
            except sa.exc.OperationalError as error:
                log.warning("database unavailable, retrying: %s", error)
            stop.wait(interval_s)

    def _record_next(self, today: date) -> DueDeadline | None:
        with SqlUnitOfWork(self._engine, self._clock) as uow:
            # The lock order of every writer: the service log first, then the deadline row.
            uow.lock_service_log()
            due = _lock_next_lapsed(uow.connection, today, self._clock.now())
            if due is None:
                return None
            try:
                event_id = self._on_missed(due, uow)
                _close(uow.connection, due, event_id)
                uow.commit()
            except Exception as error:
                if is_unavailable(error):
                    raise
                raise LapseFailed(due, error) from error
        log.info(
            "deadline lapsed",
            extra={
                "case_id": due.stream_id,
                "kind": due.kind,
                "due_on": due.due_on.isoformat(),
                "event_id": event_id,
            },
        )
        return due

    def _set_aside(self, failed: LapseFailed) -> None:
        """Keep the failing deadline out of the way until its retry time, with the reason."""
        key, error_id, now = uuid.UUID(failed.due.deadline_id), uuid.uuid4().hex[:12], self._clock.now()
        a = set_aside.c
        with self._engine.begin() as conn:
            before = conn.execute(sa.select(a.attempts).where(a.deadline_id == key).with_for_update())
            attempts = (before.scalar() or 0) + 1
            values = {
                "attempts": attempts,
                "reason": str(failed)[:2000],
                "error_id": error_id,
                "last_failed_at": now,
                "retry_after": now + timedelta(seconds=retry_delay_s(attempts)),
            }
            conn.execute(
                pg_insert(set_aside)
                .values(deadline_id=key, first_failed_at=now, **values)
                .on_conflict_do_update(index_elements=[a.deadline_id], set_=values)
            )
        log.error(
            "deadline set aside: its lapse could not be recorded (error %s)",
            error_id,
            exc_info=failed.error,
            extra={
                "service": self.service,
                "case_id": failed.due.stream_id,
                "kind": failed.due.kind,
                "deadline_id": failed.due.deadline_id,
                "attempts": attempts,
                "error_id": error_id,
            },
        )


def record_lapsed_before(uow: SqlUnitOfWork, stream_id: str, day: date, on_missed: MissedHandler) -> int:
    """Record in ``uow`` the lapse of each of the case's pending deadlines whose last day is
    before ``day``, as the scheduler would; return how many.

    A fact dated ``day`` comes after those lapses in law, so a command calls this first: the
    case is then the same whether or not the scheduler ran before the fact was entered (a
    keberatan filed after the penalty took effect suspends it, whenever either was recorded).
    """
    uow.lock_service_log()
    count = 0
    while (due := _lock_next_lapsed(uow.connection, day, uow.clock.now(), stream_id)) is not None:
        _close(uow.connection, due, on_missed(due, uow))
        count += 1
    return count


def _close(conn: sa.Connection, due: DueDeadline, lapse: str | Expired | None) -> None:
    """Mark the deadline MISSED, EXPIRED or CANCELLED (see ``MissedHandler``) and forget any
    earlier failure of it."""
    key = uuid.UUID(due.deadline_id)
    event_id = lapse.event_id if isinstance(lapse, Expired) else lapse
    status = "EXPIRED" if isinstance(lapse, Expired) else "MISSED" if lapse else "CANCELLED"
    conn.execute(
        deadlines_table.update()
        .where(deadlines_table.c.deadline_id == key)
        .values(status=status, resolved_by=uuid.UUID(event_id) if event_id else None)
    )
    conn.execute(set_aside.delete().where(set_aside.c.deadline_id == key))


def _lock_next_lapsed(
    conn: sa.Connection, today: date, now: datetime, stream_id: str | None = None
) -> DueDeadline | None:
    d = deadlines_table.c
    waiting = sa.select(set_aside.c.deadline_id).where(
        set_aside.c.deadline_id == d.deadline_id, set_aside.c.retry_after > now
    )
    of_case = [] if stream_id is None else [d.stream_id == stream_id]
    row = conn.execute(
        sa.select(deadlines_table)
        .where(d.status == "PENDING", d.due_on < today, ~waiting.exists(), *of_case)
        .order_by(d.due_on, d.deadline_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    return DueDeadline(
        deadline_id=str(row.deadline_id),
        stream_id=row.stream_id,
        kind=row.kind,
        due_on=row.due_on,
        day_count=DayCount(row.day_count),
        rule_set=row.rule_set,
        started_by=str(row.started_by),
    )
