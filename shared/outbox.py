"""The outbox relay: publishes a service's events to Kafka in position order, at least once.

One relay per service is active at a time: leadership is a PostgreSQL session advisory lock
held on a dedicated connection, so a standby takes over within a second of the leader's
connection dying. Events are sent with the idempotent producer (``acks=all``), key = case id,
and the cursor in ``outbox`` moves only after every send of the batch was acknowledged. A
crash anywhere re-sends from the cursor: duplicates are possible, losses are not, and a
duplicate carries the same ``event_id`` for the inbox to drop.

Appends commit in position order (see ``shared.eventstore``), so "past the cursor" never
skips an event whose transaction commits late.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from shared.db import create_engine
from shared.schema import events, outbox

log = logging.getLogger(__name__)

POSITION_HEADER = "netra-position"
LOG_HASH_HEADER = "netra-log-hash"
# While Kafka cannot take a batch (brokers down, or fewer in sync than min.insync.replicas),
# the relay says so this often, and keeps waiting until the producer's delivery timeout.
STALL_WARNING_S = 5.0


@dataclass(frozen=True)
class RelayBatch:
    """What one pass published: how many events, and the cursor after it."""

    published: int
    position: int


class OutboxRelay:
    """Moves events from one service's store to its topic."""

    def __init__(
        self,
        engine: sa.Engine,
        producer_factory: Callable[[], KafkaProducer],
        *,
        topic: str,
        name: str,
        batch_size: int = 500,
        idle_seconds: float = 0.02,
    ) -> None:
        self._engine = engine
        self._producer_factory = producer_factory
        self._producer: KafkaProducer | None = None
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.lock_key = zlib.crc32(f"netra-relay:{name}".encode())
        self._leader_engine = create_engine(engine.url, pooled=False, pre_ping=False)

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set, taking over leadership whenever it is free."""
        log.info("relay starting", extra={"relay": self.name, "topic": self.topic})
        while not stop.is_set():
            try:
                with self.leadership() as leader:
                    if leader is None:
                        stop.wait(1.0)
                        continue
                    log.info("relay is the leader", extra={"relay": self.name})
                    self._publish_while_leader(leader, stop)
            except (DBAPIError, KafkaError) as exc:
                log.warning("relay paused: %s", exc, extra={"relay": self.name})
                self._drop_producer()
                stop.wait(1.0)
        self._drop_producer()
        log.info("relay stopped", extra={"relay": self.name})

    @contextlib.contextmanager
    def leadership(self) -> Iterator[sa.Connection | None]:
        """Yield the connection holding the relay lock, or None when another relay has it.

        The lock is session-scoped, so the connection is a real one (no pool): when it
        closes, or its process dies, PostgreSQL ends the session and frees the lock.
        """
        with self._leader_engine.connect() as connection:
            got = connection.execute(sa.select(sa.func.pg_try_advisory_lock(self.lock_key))).scalar()
            connection.commit()
            yield connection if got else None

    def _publish_while_leader(self, leader: sa.Connection, stop: threading.Event) -> None:
        last_check = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - last_check > 5:
                leader.execute(sa.text("SELECT 1"))  # raises if the session (and lock) is gone
                leader.commit()
                last_check = time.monotonic()
            batch = self.publish_pending()
            if batch.published == 0:
                stop.wait(self.idle_seconds)

    def publish_pending(self) -> RelayBatch:
        """Publish one batch past the cursor and advance it. Callers must hold leadership."""
        with self._engine.connect() as conn:
            cursor = self._cursor(conn)
            rows = conn.execute(
                sa.select(events.c.position, events.c.stream_id, events.c.envelope, events.c.log_hash)
                .where(events.c.position > cursor)
                .order_by(events.c.position)
                .limit(self.batch_size)
            ).all()
            conn.commit()
            if not rows:
                return RelayBatch(0, cursor)
            self._send_all(rows)
            # Never backwards: leadership is re-checked only every few seconds, so a relay
            # that lost it may still finish a batch another relay has already passed.
            conn.execute(
                outbox.update()
                .where(outbox.c.relay == self.name, outbox.c.published_position < rows[-1].position)
                .values(published_position=rows[-1].position, updated_at=sa.func.now())
            )
            conn.commit()
        log.info(
            "published %d events",
            len(rows),
            extra={"relay": self.name, "from_position": rows[0].position, "to_position": rows[-1].position},
        )
        return RelayBatch(len(rows), rows[-1].position)

    def _cursor(self, conn: sa.Connection) -> int:
        conn.execute(
            pg_insert(outbox)
            .values(relay=self.name, published_position=0)
            .on_conflict_do_nothing(index_elements=["relay"])
        )
        return int(
            conn.execute(
                sa.select(outbox.c.published_position).where(outbox.c.relay == self.name)
            ).scalar_one()
        )

    def _send_all(self, rows: Sequence[sa.Row[Any, Any, Any, Any]]) -> None:
        producer = self._producer or self._producer_factory()
        self._producer = producer
        futures = [
            producer.send(
                self.topic,
                key=row.stream_id.encode(),
                value=row.envelope.encode(),
                headers=[
                    (POSITION_HEADER, str(row.position).encode()),
                    (LOG_HASH_HEADER, row.log_hash.encode()),
                ],
            )
            for row in rows
        ]
        self._flush(producer, futures)
        for future in futures:
            future.get(timeout=0)  # raises the send's error: the cursor then stays put

    def _flush(self, producer: KafkaProducer, futures: Sequence[Any]) -> None:
        waited = 0.0
        while True:
            try:
                producer.flush(timeout=STALL_WARNING_S)
                return
            except KafkaTimeoutError:
                waited += STALL_WARNING_S
                log.warning(
                    "relay waiting on Kafka: %d of %d events not acknowledged after %.0f s (brokers "
                    "down, or fewer in sync than min.insync.replicas); they stay in the store and the "
                    "cursor does not move until Kafka has them",
                    sum(not future.is_done for future in futures),
                    len(futures),
                    waited,
                    extra={"relay": self.name},
                )

    def _drop_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=5)
            self._producer = None
