"""The append-only, hash-chained event store: PostgreSQL for real, a list in memory for unit
tests; ``tests/contract`` runs the same assertions against both.

Optimistic concurrency is the unique ``(stream_id, stream_version)``: a writer that read
version N appends N+1, and the second writer to try fails with ``ConcurrencyError``.

Appends of one service are serialised by a transaction-scoped advisory lock taken just before
the insert and released by the commit. That buys two things: the service-log hash chain has
one total order, and positions commit strictly in order, so the outbox relay may publish
"everything past the cursor" without ever skipping a later-committed earlier position.
The price is that concurrent writers queue for the insert+commit (``make bench`` measures it),
so a command appends last: the lock is held from its append until its commit.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from shared.clock import Clock
from shared.envelope import GENESIS_HASH, Context, Envelope, NewEvent, log_link, seal
from shared.schema import events as events_table

# pg_advisory_xact_lock key for "append to this database's service log" (arbitrary, fixed).
SERVICE_LOG_LOCK = 0x4E54524C4F47  # "NTRLOG"


class ConcurrencyError(Exception):
    """The stream moved on since the caller read it (answered 409, or 412 with If-Match)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        found = "unknown (a concurrent append won)" if actual is None else str(actual)
        super().__init__(f"stream {stream_id}: expected version {expected}, found {found}")


@dataclass(frozen=True)
class Recorded:
    """An envelope with its place in the service log."""

    position: int
    envelope: Envelope
    log_prev_hash: str
    log_hash: str


class EventStore(Protocol):
    def load(self, stream_id: str) -> list[Envelope]:
        """Every event of one case stream, in version order."""
        ...

    def append(
        self, stream_id: str, new: Sequence[NewEvent], *, expected_version: int, context: Context
    ) -> list[Envelope]:
        """Seal and append ``new`` after ``expected_version``; raise ConcurrencyError if moved."""
        ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Recorded]:
        """The service log from ``after_position`` (exclusive), in position order."""
        ...


def _seal_all(
    new: Sequence[NewEvent],
    stream_id: str,
    version: int,
    prev_hash: str,
    context: Context,
    recorded_at: datetime,
) -> list[Envelope]:
    sealed = []
    for offset, event in enumerate(new, start=1):
        cause = context if event.caused_by is None else replace(context, causation_id=event.caused_by)
        envelope = seal(
            event,
            stream_id=stream_id,
            stream_version=version + offset,
            prev_hash=prev_hash,
            context=cause,
            recorded_at=recorded_at,
            event_id=event.event_id,
        )
        sealed.append(envelope)
        prev_hash = envelope.hash
    return sealed


class SqlEventStore:
    """The store on one SQLAlchemy connection; the caller owns the transaction.

    An append is one call to ``netra_append`` (shared.schema): Python seals the events
    against the case head it knows, and the function, under the service-log lock, checks
    that head, chains and inserts. The head comes from ``load`` in the same unit of work
    (every command loads its case first) or, failing that, from one extra query.
    """

    def __init__(self, connection: sa.Connection, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock
        self._heads: dict[str, tuple[int, str]] = {}

    def load(self, stream_id: str) -> list[Envelope]:
        rows = self._conn.execute(
            sa.select(events_table.c.envelope)
            .where(events_table.c.stream_id == stream_id)
            .order_by(events_table.c.stream_version)
        )
        loaded = [Envelope.from_bytes(row.envelope.encode()) for row in rows]
        self._heads[stream_id] = (loaded[-1].stream_version, loaded[-1].hash) if loaded else (0, GENESIS_HASH)
        return loaded

    def append(
        self, stream_id: str, new: Sequence[NewEvent], *, expected_version: int, context: Context
    ) -> list[Envelope]:
        if not new:
            return []
        prev_hash = self._head_hash(stream_id, expected_version)
        sealed = _seal_all(new, stream_id, expected_version, prev_hash, context, self._clock.now())
        rows = json.dumps([stored_row(envelope) for envelope in sealed])
        try:
            # exec_driver_sql: the hot path skips SQLAlchemy's statement compilation.
            self._conn.exec_driver_sql(
                APPEND_SQL, (SERVICE_LOG_LOCK, stream_id, expected_version, prev_hash, rows)
            )
        except DBAPIError as exc:
            raise _conflict(exc, stream_id, expected_version) from exc
        self._heads[stream_id] = (sealed[-1].stream_version, sealed[-1].hash)
        return sealed

    def _head_hash(self, stream_id: str, version: int) -> str:
        """The hash of the case's event at ``version`` (what the next event chains to)."""
        if version == 0:
            return GENESIS_HASH
        known = self._heads.get(stream_id)
        if known and known[0] == version:
            return known[1]
        found = self._conn.exec_driver_sql(_HASH_AT, (stream_id, version)).scalar()
        if found is None:
            raise ConcurrencyError(stream_id, version, None)
        return str(found)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Recorded]:
        rows = self._conn.execute(
            sa.select(
                events_table.c.position,
                events_table.c.envelope,
                events_table.c.log_prev_hash,
                events_table.c.log_hash,
            )
            .where(events_table.c.position > after_position)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        return [
            Recorded(r.position, Envelope.from_bytes(r.envelope.encode()), r.log_prev_hash, r.log_hash)
            for r in rows
        ]


APPEND_SQL = "SELECT netra_append(%s, %s, %s, %s, %s::jsonb)"
_HASH_AT = "SELECT hash FROM events WHERE stream_id = %s AND stream_version = %s"


def _conflict(exc: DBAPIError, stream_id: str, expected: int) -> Exception:
    """The ConcurrencyError a failed append means, or the error itself if it means another."""
    state = getattr(exc.orig, "sqlstate", None)
    if state == "NT409":
        detail = getattr(getattr(exc.orig, "diag", None), "message_detail", None)
        return ConcurrencyError(stream_id, expected, int(detail) if detail and detail.isdigit() else None)
    if state == "23505":  # unique (stream_id, stream_version): a writer that bypassed the lock
        return ConcurrencyError(stream_id, expected, None)
    return exc


def stored_row(envelope: Envelope) -> dict[str, object]:
    """What netra_append takes for one event: the envelope's bytes and the columns copied from it."""
    return {
        "event_id": envelope.event_id,
        "stream_version": envelope.stream_version,
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "envelope": envelope.to_bytes().decode(),
        "hash": envelope.hash,
    }


class InMemoryEventStore:
    """The fake: same contract, kept in a list. ``begin``/``rollback`` give the unit of work
    transaction semantics so a failed command leaves nothing behind, as in PostgreSQL."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._log: list[Recorded] = []
        self._lock = threading.RLock()
        self._saved: list[Recorded] | None = None

    def begin(self) -> None:
        self._lock.acquire()
        self._saved = copy.copy(self._log)

    def commit(self) -> None:
        self._saved = None
        self._lock.release()

    def rollback(self) -> None:
        if self._saved is not None:
            self._log = self._saved
        self._saved = None
        self._lock.release()

    def load(self, stream_id: str) -> list[Envelope]:
        with self._lock:
            return [r.envelope for r in self._log if r.envelope.stream_id == stream_id]

    def append(
        self, stream_id: str, new: Sequence[NewEvent], *, expected_version: int, context: Context
    ) -> list[Envelope]:
        if not new:
            return []
        with self._lock:
            stream = self.load(stream_id)
            actual = stream[-1].stream_version if stream else 0
            if actual != expected_version:
                raise ConcurrencyError(stream_id, expected_version, actual)
            prev = stream[-1].hash if stream else GENESIS_HASH
            sealed = _seal_all(new, stream_id, actual, prev, context, self._clock.now())
            for envelope in sealed:
                # A round trip through bytes, so the fake hands back what PostgreSQL would.
                envelope = Envelope.from_bytes(envelope.to_bytes())
                log_prev = self._log[-1].log_hash if self._log else GENESIS_HASH
                link = log_link(log_prev, envelope.hash)
                self._log.append(Recorded(len(self._log) + 1, envelope, log_prev, link))
            return sealed

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Recorded]:
        with self._lock:
            return self._log[after_position : after_position + limit]
