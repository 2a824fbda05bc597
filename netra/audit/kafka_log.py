"""A service's topic read back from offset 0 in the relay's order (the store position in the
``netra-position`` header), with memory that does not grow with the log.

The relay publishes in position order and one case's events go to one partition, so each
partition holds increasing positions, save for re-sends after a crash (a position already
seen). ``TopicLog.records`` merges the partitions by position. It reads all partitions with
one consumer, keeps at most ``buffer`` records per partition, and pauses the partitions that
run ahead, so memory is bounded by partitions × buffer whatever the log's length.

Re-sent duplicates and records without a usable position are not dropped silently: they are
kept aside (they are few) for the verifier to check against the store.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from shared.outbox import LOG_HASH_HEADER, POSITION_HEADER


class KafkaReadError(RuntimeError):
    """The topic could not be read to its end."""


@dataclass(frozen=True)
class LogRecord:
    """One Kafka record as the relay wrote it."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    position: int | None
    log_hash: str | None


@dataclass
class TopicLog:
    """One topic up to the end offsets it had when opened."""

    bootstrap: str
    topic: str
    buffer: int = 5000
    idle_timeout_s: float = 30.0
    # Seen in ``records``: re-sent duplicates and records without a position header.
    duplicates: list[LogRecord] = field(default_factory=list)
    unplaced: list[LogRecord] = field(default_factory=list)
    read: int = 0
    exists: bool = True

    def __post_init__(self) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.buffer,
            fetch_max_wait_ms=50,
            client_id="netra-audit",
            # Reading must never create a topic a service has not created.
            allow_auto_create_topics=False,
        )
        found = self._consumer.partitions_for_topic(self.topic)
        self.exists = bool(found)
        self._tps = [TopicPartition(self.topic, p) for p in sorted(found or ())]
        self._queues: dict[int, deque[LogRecord]] = {tp.partition: deque() for tp in self._tps}
        self._ends: dict[int, int] = {}
        self._next: dict[int, int] = {}
        if self._tps:
            self._consumer.assign(self._tps)
            self._consumer.seek_to_beginning(*self._tps)
            starts = self._consumer.beginning_offsets(self._tps)
            self._ends = {tp.partition: off for tp, off in self._consumer.end_offsets(self._tps).items()}
            self._next = {tp.partition: off for tp, off in starts.items()}

    @property
    def end_offsets(self) -> dict[int, int]:
        """The offset each partition is read to (exclusive): its end when the log was opened."""
        return dict(self._ends)

    def records(self) -> Iterator[LogRecord]:
        """Every placed, first-sent record in increasing position order."""
        yield from heapq.merge(*(self._partition(p) for p in self._queues), key=_position)

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()

    def _partition(self, partition: int) -> Iterator[LogRecord]:
        highest = 0
        while (record := self._take(partition)) is not None:
            if record.position is None:
                self.unplaced.append(record)
            elif record.position <= highest:
                self.duplicates.append(record)
            else:
                highest = record.position
                yield record

    def _take(self, partition: int) -> LogRecord | None:
        queue = self._queues[partition]
        waited_since = time.monotonic()
        while not queue:
            if self._next[partition] >= self._ends[partition]:
                return None
            if self._fill():
                waited_since = time.monotonic()
            elif time.monotonic() - waited_since > self.idle_timeout_s:
                raise KafkaReadError(
                    f"{self.topic} partition {partition}: no record for {self.idle_timeout_s:.0f} s "
                    f"at offset {self._next[partition]} (end {self._ends[partition]})"
                )
        return queue.popleft()

    def _fill(self) -> int:
        """Poll once, fetching only for partitions that are short of records."""
        for tp in self._tps:
            behind = len(self._queues[tp.partition]) < self.buffer
            done = self._next[tp.partition] >= self._ends[tp.partition]
            if behind and not done:
                self._consumer.resume(tp)
            else:
                self._consumer.pause(tp)
        polled = self._consumer.poll(timeout_ms=500)
        count = 0
        for tp, batch in polled.items():
            end = self._ends[tp.partition]
            queue = self._queues[tp.partition]
            for raw in batch:
                if raw.offset >= end:
                    continue  # published after the audit began: the next audit reads it
                queue.append(_record(raw))
                count += 1
            if batch:
                self._next[tp.partition] = max(self._next[tp.partition], batch[-1].offset + 1)
        self.read += count
        return count


def _position(record: LogRecord) -> int:
    return record.position or 0


def _record(raw: Any) -> LogRecord:
    """A kafka-python ConsumerRecord as a LogRecord."""
    headers = dict(raw.headers or [])
    return LogRecord(
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        value=raw.value,
        position=_int(headers.get(POSITION_HEADER)),
        log_hash=_text(headers.get(LOG_HASH_HEADER)),
    )


def _int(raw: bytes | None) -> int | None:
    try:
        value = int(raw.decode("ascii")) if raw is not None else None
    except (UnicodeDecodeError, ValueError):
        return None
    return value if value is not None and value > 0 else None


def _text(raw: bytes | None) -> str | None:
    try:
        return raw.decode("ascii") if raw is not None else None
    except UnicodeDecodeError:
        return None
