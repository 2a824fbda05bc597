"""The unit of work: one transaction for a command's events, the outbox state they imply,
the deadlines they start and the inbox row of the record that caused them (docs/architecture.md §2).

    with uow:
        case = Case.from_events(uow.events.load(case_id))
        uow.events.append(case_id, case.decide(...), expected_version=case.version, context=ctx)
        uow.commit()

Leaving the block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Protocol

import sqlalchemy as sa

from shared.clock import Clock
from shared.eventstore import SERVICE_LOG_LOCK, EventStore, InMemoryEventStore, SqlEventStore
from shared.schema import deadlines as deadlines_table
from shared.workdays import DayCount


@dataclass(frozen=True)
class Deadline:
    """A legal clock started by an event: due on ``due_on``, counted in ``day_count`` days."""

    stream_id: str
    kind: str
    due_on: date
    day_count: DayCount
    started_by: str
    rule_set: str | None = None


@dataclass(frozen=True)
class InboxEntry:
    """The Kafka record a consumer handled, keyed by (consumer, event_id)."""

    consumer: str
    event_id: str
    stream_id: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Claim:
    """What the inbox learns before handling a record: is the case quarantined (then the
    record waits), and did this transaction claim the event (if not, it is a duplicate)."""

    quarantined: bool
    claimed: bool


# One round trip per record: check the quarantine and, unless quarantined, claim the event
# with its inbox row. FOR SHARE on an open quarantine row: a release finishing concurrently
# (it takes the row FOR UPDATE) waits until this record is held, so it sees the held row
# and replays it instead of leaving it behind.
_CLAIM = sa.text(
    """
    WITH q AS (
      SELECT EXISTS (SELECT 1 FROM inbox_quarantine
                     WHERE consumer = :consumer AND stream_key = :stream_key
                       AND resolved_at IS NULL AND id <> :releasing
                     FOR SHARE) AS quarantined
    ), claimed AS (
      INSERT INTO inbox (consumer, event_id, stream_id, topic, partition, "offset", processed_at)
      SELECT :consumer, :event_id, :stream_id, :topic, :partition, :offset, :processed_at
      FROM q WHERE NOT q.quarantined AND CAST(:event_id AS text) IS NOT NULL
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT q.quarantined, EXISTS (SELECT 1 FROM claimed) AS claimed FROM q
    """
)


class UnitOfWork(Protocol):
    events: EventStore
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Make everything done inside the block durable at once."""
        ...

    def schedule(self, deadline: Deadline) -> None:
        """Record a deadline in the same transaction as the event that started it."""
        ...

    def resolve_deadlines(
        self, stream_id: str, kinds: Iterable[str], resolved_by: str, status: str = "MET"
    ) -> int:
        """Close the case's pending deadlines of ``kinds`` (MET, or CANCELLED when the case
        moved past them), naming the event that did it; return how many were closed."""
        ...

    def reopen_deadlines(self, stream_id: str, lapsed_by: Iterable[str]) -> int:
        """Make the case's deadlines whose lapse was recorded by the events ``lapsed_by``
        pending again (their lapse was withdrawn); return how many."""
        ...

    def claim(self, consumer: str, stream_key: str, entry: InboxEntry | None, releasing: int = 0) -> Claim:
        """Unless the case is quarantined for ``consumer`` (the quarantine being released
        aside), write the inbox row of ``entry``; with ``entry`` None, only check the
        quarantine. A second claim of the same event is refused: a duplicate delivery."""
        ...


class SqlUnitOfWork:
    """A unit of work on one PostgreSQL transaction."""

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self._engine = engine
        self.clock = clock

    def __enter__(self) -> SqlUnitOfWork:
        self.connection = self._engine.connect()
        self._tx = self.connection.begin()
        self.events: EventStore = SqlEventStore(self.connection, self.clock)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.connection.close()

    def commit(self) -> None:
        self._tx.commit()

    def lock_service_log(self) -> None:
        """Take the service-log lock now, before any row lock, as an append would later.

        Every writer takes its locks in one order: the service-log lock first, then rows.
        A command appends (taking the lock) and then updates rows (deadlines, read models);
        a path that must lock a row before it appends calls this first, or the two could
        each hold what the other waits for. The lock is re-entrant and ends with the
        transaction."""
        self.connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (SERVICE_LOG_LOCK,))

    def schedule(self, deadline: Deadline) -> None:
        self.connection.execute(
            deadlines_table.insert().values(
                deadline_id=uuid.uuid4(),
                stream_id=deadline.stream_id,
                kind=deadline.kind,
                due_on=deadline.due_on,
                day_count=deadline.day_count.value,
                rule_set=deadline.rule_set,
                started_by=uuid.UUID(deadline.started_by),
            )
        )

    def resolve_deadlines(
        self, stream_id: str, kinds: Iterable[str], resolved_by: str, status: str = "MET"
    ) -> int:
        d = deadlines_table.c
        result = self.connection.execute(
            deadlines_table.update()
            .where(d.stream_id == stream_id, d.kind.in_(list(kinds)), d.status == "PENDING")
            .values(status=status, resolved_by=uuid.UUID(resolved_by))
        )
        return result.rowcount

    def reopen_deadlines(self, stream_id: str, lapsed_by: Iterable[str]) -> int:
        d = deadlines_table.c
        result = self.connection.execute(
            deadlines_table.update()
            .where(
                d.stream_id == stream_id,
                d.status.in_(("MISSED", "EXPIRED")),
                d.resolved_by.in_([uuid.UUID(e) for e in lapsed_by]),
            )
            .values(status="PENDING", resolved_by=None)
        )
        return result.rowcount

    def claim(self, consumer: str, stream_key: str, entry: InboxEntry | None, releasing: int = 0) -> Claim:
        fields = entry.__dict__ if entry else dict.fromkeys(InboxEntry.__dataclass_fields__)
        params = {
            **fields,
            "consumer": consumer,
            "stream_key": stream_key,
            "releasing": releasing,
            "processed_at": self.clock.now(),
        }
        row = self.connection.execute(_CLAIM, params).one()
        return Claim(row.quarantined, row.claimed)


class InMemoryUnitOfWork:
    """The fake for unit tests: the in-memory store plus lists, with rollback."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.store = InMemoryEventStore(clock)
        self.events: EventStore = self.store
        self.deadlines: list[Deadline] = []
        self.inbox: dict[tuple[str, str], InboxEntry] = {}
        # Deadline -> (status, resolving event id).
        self.resolved: dict[Deadline, tuple[str, str]] = {}
        self.committed = False

    def __enter__(self) -> InMemoryUnitOfWork:
        self.store.begin()
        self._pending: list[Deadline] = []
        self._pending_inbox: dict[tuple[str, str], InboxEntry] = {}
        self._pending_resolved: dict[Deadline, tuple[str, str]] = {}
        self._reopened: set[Deadline] = set()
        self.committed = False
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.store.rollback()

    def commit(self) -> None:
        self.store.commit()
        self.deadlines.extend(self._pending)
        self.inbox.update(self._pending_inbox)
        for deadline in self._reopened:
            self.resolved.pop(deadline, None)
        self.resolved.update(self._pending_resolved)
        self.committed = True

    def schedule(self, deadline: Deadline) -> None:
        self._pending.append(deadline)

    def resolve_deadlines(
        self, stream_id: str, kinds: Iterable[str], resolved_by: str, status: str = "MET"
    ) -> int:
        wanted = set(kinds)
        closing = [
            dl
            for dl in [*self.deadlines, *self._pending]
            if dl.stream_id == stream_id
            and dl.kind in wanted
            and (dl not in self.resolved or dl in self._reopened)
            and dl not in self._pending_resolved
        ]
        self._pending_resolved.update({dl: (status, resolved_by) for dl in closing})
        return len(closing)

    def reopen_deadlines(self, stream_id: str, lapsed_by: Iterable[str]) -> int:
        ids = set(lapsed_by)
        lapsed = [
            dl
            for dl, (status, by) in self.resolved.items()
            if dl.stream_id == stream_id and status in ("MISSED", "EXPIRED") and by in ids
        ]
        self._reopened.update(lapsed)
        return len(lapsed)

    def claim(self, consumer: str, stream_key: str, entry: InboxEntry | None, releasing: int = 0) -> Claim:
        if entry is None:
            return Claim(quarantined=False, claimed=False)
        key = (entry.consumer, entry.event_id)
        if key in self.inbox or key in self._pending_inbox:
            return Claim(quarantined=False, claimed=False)
        self._pending_inbox[key] = entry
        return Claim(quarantined=False, claimed=True)
