"""The inbox consumer: Kafka record → handler → new events + inbox row, in one transaction.

For each record, in partition order:
  1. If the record's case has a parked (quarantined) record, hold this one back (durably,
     in ``inbox_held``) until a person resolves the quarantine; other cases go on.
  2. If it cannot be parsed, its hash does not match, or the handler rejects its payload
     (``PoisonRecord``) or fails in any other way (a refusal, a bug: logged with its
     traceback under an error id the reason names), park it on ``<topic>.dlq`` with the
     reason and quarantine its case. A lost race (``ConcurrencyError``, a deadlock) is
     tried again on the case's new head first.
  3. If the inbox already has its event id, it is a duplicate: nothing changes.
  4. Otherwise run the handler, write the inbox row and commit, all in one transaction.
Kafka offsets are committed only after the database commit; a crash in between re-reads
the record and step 3 makes the second delivery a no-op. Records are handled a partition's
batch per transaction; a batch that fails is undone and handled record by record, so one
bad record never holds back the other cases of its partition. Only an unreachable database
or Kafka stops a partition, until it answers again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka.errors import KafkaError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from shared.bus import dlq_topic
from shared.clock import Clock
from shared.db import is_unavailable, lost_race
from shared.envelope import Actor, Context, Envelope, EnvelopeError, NewEvent
from shared.logs import withheld
from shared.schema import held, quarantine
from shared.uow import InboxEntry, SqlUnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Envelope, SqlUnitOfWork], None]

# Tries of a record that keeps losing races before it is parked: each loss needs another
# writer appending to the same case in that instant, so this many means something is wrong.
MAX_RACE_ATTEMPTS = 5


class PoisonRecord(Exception):
    """Raised by a handler for a record whose payload fails its schema: it is parked."""


class _MustPark(Exception):
    """A record that must go to the DLQ: its transaction is undone first."""

    def __init__(self, stream_key: str, reason: str) -> None:
        super().__init__(reason)
        self.stream_key, self.reason = stream_key, reason


@dataclass(frozen=True)
class Record:
    """The parts of a Kafka record the inbox needs (also rebuilt from ``inbox_held``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, message: Any) -> Record:
        return cls(message.topic, message.partition, message.offset, message.key, message.value)


class InboxConsumer:
    """Consumes ``topics`` for one service and hands each new event to its handler."""

    def __init__(
        self,
        name: str,
        engine: sa.Engine,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        dlq_producer: Callable[[], KafkaProducer],
        service: str,
    ) -> None:
        self.name = name
        self.service = service
        self._engine = engine
        self._clock = clock
        self._handlers = handlers
        self._dlq_factory = dlq_producer
        self._dlq: KafkaProducer | None = None
        # Records not yet handled per "topic/partition", as of the last poll (its heartbeat
        # reports it; /metrics shows it).
        self.lag: dict[str, int] = {}

    def run(self, consumer: KafkaConsumer, stop: threading.Event) -> None:
        """Poll and handle until ``stop`` is set; offsets follow database commits."""
        log.info("consumer starting", extra={"consumer": self.name})
        committed: dict[Any, OffsetAndMetadata] = {}
        while not stop.is_set():
            handled: dict[Any, OffsetAndMetadata] = {}
            retry = False
            for tp, messages in consumer.poll(timeout_ms=200).items():
                done = self._handle_partition(messages)
                if done is not None:
                    handled[tp] = OffsetAndMetadata(done + 1, "", -1)
                self._note_lag(consumer, tp, messages[0].offset if done is None else done + 1)
                if done is None or done < messages[-1].offset:
                    # A transient failure: read again from the first unhandled record.
                    consumer.seek(tp, messages[0].offset if done is None else done + 1)
                    retry = True
            if handled:
                # Asynchronous: a commit lost to a crash only means those records come
                # again, and the inbox turns them into no-ops. Waiting would stall the loop.
                consumer.commit_async(handled)
                committed.update(handled)
            if retry:
                stop.wait(1.0)
        if committed:
            try:
                consumer.commit(committed)  # the last word on the way out is a synchronous one
            except KafkaError as exc:  # e.g. partitions moved away: their new owner re-reads
                log.warning("final offset commit failed: %s", exc, extra={"consumer": self.name})
        log.info("consumer stopped", extra={"consumer": self.name})

    def _note_lag(self, consumer: KafkaConsumer, tp: Any, next_offset: int) -> None:
        # The high watermark comes with each fetch, so this costs no request to the broker.
        highwater = consumer.highwater(tp)
        if highwater is not None:
            self.lag[f"{tp.topic}/{tp.partition}"] = max(0, highwater - next_offset)

    def _handle_partition(self, messages: list[Any]) -> int | None:
        """Handle one partition's records in order; return the last offset handled, or None
        when the database or Kafka is unreachable (the records are read again)."""
        try:
            self.handle_batch([Record.of(m) for m in messages])
            return int(messages[-1].offset)
        except (DBAPIError, KafkaError) as exc:
            first = messages[0]
            log.warning(
                "records not handled yet: %s",
                exc,
                extra={"topic": first.topic, "partition": first.partition, "offset": first.offset},
            )
            return None

    def handle_batch(self, records: list[Record]) -> list[str]:
        """Handle records in order in one transaction: each record's effects and inbox row
        still commit together, with one commit for the batch instead of one per record.
        A batch that fails for any reason but an unreachable database or Kafka is undone and
        handled record by record, so only the record at fault is retried or parked."""
        try:
            with SqlUnitOfWork(self._engine, self._clock) as uow:
                outcomes = [self._apply(uow, record, None) for record in records]
                uow.commit()
        except Exception as error:
            if _unavailable(error):
                raise
            return [self.handle(record) for record in records]
        return outcomes

    def handle(self, record: Record, *, releasing: int | None = None) -> str:
        """Handle one record; return what happened: handled, duplicate, held or parked.
        ``releasing`` names the quarantine being released, which does not hold it back.

        A lost race (a command appended to the case between the handler's load and its
        append, or lock contention) is tried again on the new head; anything else the
        handler raises parks the record with the reason, as a poison record is parked.
        Only an unreachable database or Kafka is raised, for the caller to try later."""
        attempt = 1
        while True:
            try:
                with SqlUnitOfWork(self._engine, self._clock) as uow:
                    outcome = self._apply(uow, record, releasing)
                    uow.commit()
                return outcome
            except _MustPark as park:
                return self._park(record, park.stream_key, park.reason)
            except Exception as error:
                if _unavailable(error):
                    raise
                if lost_race(error) and attempt < MAX_RACE_ATTEMPTS:
                    attempt += 1
                    continue
                return self._park(record, _stream_key(record), self._failure(record, error))

    def _failure(self, record: Record, error: Exception) -> str:
        """Log the handler's failure with its traceback under a fresh id; the parking reason."""
        error_id = uuid.uuid4().hex[:12]
        envelope, _ = _parse(record)
        event_type = envelope.event_type if envelope else "?"
        log.error(
            "handler failed on %s (error %s)",
            event_type,
            error_id,
            exc_info=error,
            extra={"consumer": self.name, "case_id": _stream_key(record), "error_id": error_id},
        )
        return f"{type(error).__name__} in the handler of {event_type} (error {error_id}): {withheld(error)}"[
            :2000
        ]

    def _apply(self, uow: SqlUnitOfWork, record: Record, releasing: int | None) -> str:
        """One record's effects inside ``uow``; raises _MustPark instead of parking."""
        envelope, reason = _parse(record)
        stream_key = _stream_key(record, envelope)
        entry = (
            InboxEntry(
                self.name,
                envelope.event_id,
                envelope.stream_id,
                record.topic,
                record.partition,
                record.offset,
            )
            if envelope
            else None
        )
        claim = uow.claim(self.name, stream_key, entry, releasing or 0)
        if claim.quarantined:
            self._hold(uow, stream_key, record)
            return "held"
        if envelope is None:
            raise _MustPark(stream_key, reason)
        if not claim.claimed:
            return "duplicate"
        handler = self._handlers.get(envelope.event_type)
        try:
            if handler is not None:
                handler(envelope, uow)
        except PoisonRecord as exc:
            raise _MustPark(stream_key, f"{envelope.event_type}: {exc}") from exc
        log.info(
            "handled %s",
            envelope.event_type,
            extra={
                "consumer": self.name,
                "case_id": envelope.stream_id,
                "event_id": envelope.event_id,
                "correlation_id": envelope.correlation_id,
            },
        )
        return "handled"

    def _hold(self, uow: SqlUnitOfWork, stream_key: str, record: Record) -> None:
        uow.connection.execute(
            pg_insert(held)
            .values(
                consumer=self.name,
                stream_key=stream_key,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                value=record.value,
                held_at=self._clock.now(),
            )
            .on_conflict_do_nothing(constraint="inbox_held_record_key")
        )
        log.warning("held behind a parked record", extra={"consumer": self.name, "case_id": stream_key})

    def _park(self, record: Record, stream_key: str, reason: str) -> str:
        """Send the record to the DLQ (acknowledged first), then quarantine its case."""
        producer = self._dlq or self._dlq_factory()
        self._dlq = producer
        producer.send(
            dlq_topic(record.topic),
            key=record.key,
            value=record.value,
            headers=[
                ("netra-reason", reason.encode()),
                ("netra-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
                ("netra-consumer", self.name.encode()),
            ],
        ).get(timeout=30)
        with SqlUnitOfWork(self._engine, self._clock) as uow:
            uow.connection.execute(
                pg_insert(quarantine).values(
                    consumer=self.name,
                    stream_key=stream_key,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    reason=reason,
                    value=record.value,
                    parked_at=self._clock.now(),
                )
            )
            uow.commit()
        log.error("parked on the DLQ: %s", reason, extra={"consumer": self.name, "case_id": stream_key})
        return "parked"

    def release(self, quarantine_id: int, *, actor: Actor, resolution: str) -> dict[str, int]:
        """Resolve a parked record (it stays skipped), audit that as an event of its case,
        then handle, in order, the records of the case that waited behind it.

        The quarantine stays open until the last held record is handled, so the running
        consumer keeps holding new records of the case instead of overtaking the old ones.
        """
        stream_key = self._begin_release(quarantine_id, actor, resolution)
        outcomes: dict[str, int] = defaultdict(int)
        while True:
            with self._engine.begin() as conn:
                conn.execute(
                    sa.select(quarantine.c.id).where(quarantine.c.id == quarantine_id).with_for_update()
                )
                waiting = conn.execute(
                    sa.select(held)
                    .where(
                        held.c.consumer == self.name,
                        held.c.stream_key == stream_key,
                        held.c.released_at.is_(None),
                    )
                    .order_by(held.c.id)
                ).all()
                if not waiting or self._parked_again(conn, stream_key, quarantine_id):
                    conn.execute(
                        quarantine.update()
                        .where(quarantine.c.id == quarantine_id)
                        .values(resolved_at=self._clock.now())
                    )
                    return dict(outcomes)
            for row in waiting:
                record = Record(row.topic, row.partition, row.offset, stream_key.encode(), row.value)
                outcome = self.handle(record, releasing=quarantine_id)
                with self._engine.begin() as conn:
                    conn.execute(
                        held.update().where(held.c.id == row.id).values(released_at=self._clock.now())
                    )
                outcomes[outcome] += 1
                if outcome == "parked":
                    break  # the rest wait behind the new parked record

    def _begin_release(self, quarantine_id: int, actor: Actor, resolution: str) -> str:
        with SqlUnitOfWork(self._engine, self._clock) as uow:
            # The service log before the quarantine row: a consumer batch holding the log
            # lock checks that row FOR SHARE (uow.claim).
            uow.lock_service_log()
            row = uow.connection.execute(
                sa.select(quarantine).where(quarantine.c.id == quarantine_id).with_for_update()
            ).first()
            if row is None or row.consumer != self.name:
                raise LookupError(f"no parked record {quarantine_id} for consumer {self.name}")
            if row.resolution is not None:
                raise ValueError(f"parked record {quarantine_id} was already resolved by {row.resolved_by}")
            uow.connection.execute(
                quarantine.update()
                .where(quarantine.c.id == quarantine_id)
                .values(resolved_by=actor.id, resolution=resolution)
            )
            uow.events.append(
                row.stream_key,
                [_release_event(self.service, row, resolution, self._clock)],
                expected_version=len(uow.events.load(row.stream_key)),
                context=Context(actor=actor, correlation_id=row.stream_key),
            )
            uow.commit()
        return str(row.stream_key)

    def _parked_again(self, conn: sa.Connection, stream_key: str, releasing: int) -> bool:
        q = quarantine.c
        newer = conn.execute(
            sa.select(q.id).where(
                q.consumer == self.name,
                q.stream_key == stream_key,
                q.resolved_at.is_(None),
                q.id != releasing,
            )
        ).first()
        return newer is not None


def _release_event(service: str, row: sa.Row, resolution: str, clock: Clock) -> NewEvent:
    return NewEvent(
        event_type=f"{service}.parked_record_resolved",
        payload={
            "quarantine_id": row.id,
            "source": f"{row.topic}/{row.partition}/{row.offset}",
            "reason": row.reason,
            "resolution": resolution,
        },
        occurred_at=clock.now(),
    )


def _stream_key(record: Record, envelope: Envelope | None = None) -> str:
    """The case a record belongs to: its envelope's stream, or failing that its Kafka key."""
    envelope = envelope or _parse(record)[0]
    return envelope.stream_id if envelope else _key(record)


def _unavailable(error: Exception) -> bool:
    """The database or Kafka is unreachable: no record's fault, so none is parked for it."""
    return isinstance(error, KafkaError) or is_unavailable(error)


def _key(record: Record) -> str:
    return record.key.decode("utf-8", "replace") if record.key else f"{record.topic}/{record.partition}"


def _parse(record: Record) -> tuple[Envelope | None, str]:
    if record.value is None:
        return None, "empty record"
    try:
        envelope = Envelope.from_bytes(record.value)
    except EnvelopeError as exc:
        return None, f"unparseable envelope: {exc}"
    if envelope.computed_hash() != envelope.hash:
        return None, f"hash mismatch on event {envelope.event_id}"
    if record.key is not None and record.key.decode("utf-8", "replace") != envelope.stream_id:
        return None, f"key {_key(record)!r} is not the case id {envelope.stream_id!r}"
    return envelope, ""
