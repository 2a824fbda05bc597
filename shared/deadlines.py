"""The scheduler that turns a lapsed legal deadline into an event, exactly once.

A deadline is a row in ``deadlines``, written by ``uow.schedule`` in the same transaction as
the event that started its clock (docs/architecture.md §3). The event that meets it resolves it
(``uow.resolve_deadlines``) in its own transaction. What is left PENDING after its last day
has lapsed: the scheduler locks each such row with ``FOR UPDATE SKIP LOCKED``, asks the
service what the lapse means (``MissedHandler``: usually a ``<service>.deadline_missed``
event in the case stream, sometimes an escalation too) and marks the row MISSED in that same
transaction. Two schedulers can run side by side: a row is taken by one of them, and once
its transaction commits the row is no longer PENDING, so the lapse is recorded once.

A deadline's last day is a date in the law's own terms. It lapses at the end of that day in
Western Indonesian Time (WIB): the westernmost of Indonesia's zones, so the day is over
everywhere in the country when the scheduler acts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from shared.clock import Clock
from shared.eventstore import ConcurrencyError
from shared.legaltime import legal_date
from shared.outcome import DueDeadline
from shared.schema import deadlines as deadlines_table
from shared.uow import SqlUnitOfWork
from shared.workdays import DayCount

log = logging.getLogger(__name__)

# Lost races in one pass before giving up until the next one: each needs a concurrent append
# to the same case, so reaching this means something is appending in a loop.
MAX_CONFLICTS = 100


# What a lapse means for the service: append its events (and project them) in ``uow``; return
# the id of the event that records the lapse, or None when the case no longer cares (the row
# is then marked CANCELLED instead of MISSED).
MissedHandler = Callable[[DueDeadline, SqlUnitOfWork], "str | None"]


def last_open_day(clock: Clock) -> date:
    """The latest last day that has not yet lapsed: today in WIB."""
    return legal_date(clock.now())


class DeadlineScheduler:
    """Records lapsed deadlines for one service's database."""

    def __init__(self, engine: sa.Engine, clock: Clock, on_missed: MissedHandler, service: str) -> None:
        self._engine = engine
        self._clock = clock
        self._on_missed = on_missed
        self.service = service

    def run_once(self) -> int:
        """Record every deadline that has lapsed by now; return how many were recorded."""
        recorded, conflicts = 0, 0
        while True:
            try:
                if not self._record_next(last_open_day(self._clock)):
                    return recorded
            except ConcurrencyError:
                # Another writer (a command, the consumer, the other scheduler taking a second
                # deadline of the same case) appended to the case first: its row was released
                # by the rollback, so take it again against the new head.
                conflicts += 1
                if conflicts > MAX_CONFLICTS:
                    raise
                continue
            recorded += 1

    def run(self, stop: threading.Event, interval_s: float = 30.0) -> None:
        """Check for lapsed deadlines every ``interval_s`` seconds until ``stop`` is set."""
        log.info("deadline scheduler started", extra={"service": self.service})
        while not stop.is_set():
            try:
                if count := self.run_once():
                    log.info("recorded lapsed deadlines", extra={"service": self.service, "count": count})
            except sa.exc.OperationalError as error:
                log.warning("database unavailable, retrying: %s", error.orig)
            stop.wait(interval_s)

    def _record_next(self, today: date) -> bool:
        with SqlUnitOfWork(self._engine, self._clock) as uow:
            due = _lock_next_lapsed(uow.connection, today)
            if due is None:
                return False
            event_id = self._on_missed(due, uow)
            uow.connection.execute(
                deadlines_table.update()
                .where(deadlines_table.c.deadline_id == uuid.UUID(due.deadline_id))
                .values(
                    status="MISSED" if event_id else "CANCELLED",
                    resolved_by=uuid.UUID(event_id) if event_id else None,
                )
            )
            uow.commit()
        log.info(
            "deadline lapsed",
            extra={
                "case_id": due.stream_id,
                "kind": due.kind,
                "due_on": due.due_on.isoformat(),
                "event_id": event_id,
            },
        )
        return True


def _lock_next_lapsed(conn: sa.Connection, today: date) -> DueDeadline | None:
    d = deadlines_table.c
    row = conn.execute(
        sa.select(deadlines_table)
        .where(d.status == "PENDING", d.due_on < today)
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
