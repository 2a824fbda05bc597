"""Reading a topic back from the real broker in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition


def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list[Any]], bool], timeout: float = 60
) -> list[Any]:
    """Every record of ``topic`` from offset 0, polled until ``until(records)`` or timeout."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    deadline = time.monotonic() + timeout
    try:
        while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
            time.sleep(0.2)  # the process under test may not have created it yet
            consumer.topics()  # refreshes metadata
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        while not until(records) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def at_least(n: int) -> Callable[[list[Any]], bool]:
    return lambda records: len(records) >= n


def distinct_event_ids(n: int) -> Callable[[list[Any]], bool]:
    import json

    return lambda records: len({json.loads(r.value)["event_id"] for r in records}) >= n
