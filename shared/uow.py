"""The unit of work: one transaction for a command's events, the outbox state they imply,
the deadlines they start and the inbox row of the record that caused them (design.md §2).

    with uow:
        case = Case.from_events(uow.events.load(case_id))
        uow.events.append(case_id, case.decide(...), expected_version=case.version, context=ctx)
        uow.commit()

Leaving the block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Protocol

import sqlalchemy as sa

from shared.clock import Clock
from shared.eventstore import EventStore, InMemoryEventStore, SqlEventStore
from shared.schema import deadlines as deadlines_table
from shared.schema import inbox as inbox_table
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
class InboxState:
    """What the inbox knows before handling a record."""

    quarantined: bool
    seen: bool


# One round trip for both questions. FOR SHARE on the open quarantine row: a release
# finishing concurrently (it takes the row FOR UPDATE) waits until this record is held,
# so it sees the held row and replays it instead of leaving it behind.
_INBOX_STATE = sa.text(
    """
    SELECT
      EXISTS (SELECT 1 FROM inbox_quarantine q
              WHERE q.consumer = :consumer AND q.stream_key = :stream_key
                AND q.resolved_at IS NULL AND q.id <> :releasing
              FOR SHARE) AS quarantined,
      EXISTS (SELECT 1 FROM inbox i WHERE i.consumer = :consumer AND i.event_id = :event_id) AS seen
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

    def inbox_state(self, consumer: str, event_id: str, stream_key: str, releasing: int = 0) -> InboxState:
        """Whether the case is quarantined for ``consumer`` (ignoring the quarantine being
        released) and whether the event was handled already (a duplicate delivery)."""
        ...

    def mark_seen(self, entry: InboxEntry) -> None:
        """Record the handled record in the inbox."""
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

    def inbox_state(self, consumer: str, event_id: str, stream_key: str, releasing: int = 0) -> InboxState:
        params = {
            "consumer": consumer,
            "stream_key": stream_key,
            "event_id": event_id,
            "releasing": releasing,
        }
        row = self.connection.execute(_INBOX_STATE, params).one()
        return InboxState(row.quarantined, row.seen)

    def mark_seen(self, entry: InboxEntry) -> None:
        self.connection.execute(inbox_table.insert().values(**entry.__dict__, processed_at=self.clock.now()))


class InMemoryUnitOfWork:
    """The fake for unit tests: the in-memory store plus lists, with rollback."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.store = InMemoryEventStore(clock)
        self.events: EventStore = self.store
        self.deadlines: list[Deadline] = []
        self.inbox: dict[tuple[str, str], InboxEntry] = {}
        self.committed = False

    def __enter__(self) -> InMemoryUnitOfWork:
        self.store.begin()
        self._pending: list[Deadline] = []
        self._pending_inbox: dict[tuple[str, str], InboxEntry] = {}
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
        self.committed = True

    def schedule(self, deadline: Deadline) -> None:
        self._pending.append(deadline)

    def inbox_state(self, consumer: str, event_id: str, stream_key: str, releasing: int = 0) -> InboxState:
        key = (consumer, event_id)
        return InboxState(quarantined=False, seen=key in self.inbox or key in self._pending_inbox)

    def mark_seen(self, entry: InboxEntry) -> None:
        self._pending_inbox[(entry.consumer, entry.event_id)] = entry
