"""A three-broker KRaft cluster for real (issue 16): deploy/kafka/kafka.sh start-cluster runs
three combined broker+controller nodes with one three-voter quorum. Netra's topics there get
three copies and min.insync.replicas=2, so a broker killed under load loses no acknowledged
write, and with two brokers gone a write is refused with a clear error, never lost."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.errors import KafkaError

from shared.bus import ensure_topics, make_producer
from shared.config import REPO_ROOT
from shared.pg_embedded import free_port
from tests.support.kafka import at_least, read_topic

KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"
RECORDS = 300


def _free_run(count: int) -> int:
    """A first port with ``count`` free ports from it (a node uses a pair: broker, controller)."""
    for _ in range(50):
        base = free_port()
        if all(_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no run of free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    base = _free_run(6)
    data = tmp_path / "kafka"
    subprocess.run([str(KAFKA_SH), "start-cluster", str(data), "3", str(base)], check=True)
    try:
        yield data, [f"127.0.0.1:{base + 2 * i}" for i in range(3)]
    finally:
        # A node left alone has no quorum and would wait 30 s on SIGTERM; the data is scratch.
        for index in (1, 2, 3):
            with contextlib.suppress(OSError, ValueError):
                kill_node(data, index)


def kill_node(data: Path, index: int) -> None:
    os.kill(int((data / f"node-{index}" / "kafka.pid").read_text()), signal.SIGKILL)


def test_a_broker_killed_under_load_loses_no_acknowledged_write(cluster: tuple[Path, list[str]]) -> None:
    data, brokers = cluster
    bootstrap = ",".join(brokers)
    topic = f"cluster-{uuid.uuid4().hex[:6]}.case-events"
    ensure_topics(bootstrap, [topic], partitions=3, replication=3)
    producer = make_producer(bootstrap, "test-cluster")
    for partition in range(3):  # the new topic's leaders are known before the load begins
        producer.send(topic, value=b"warm-up", partition=partition).get(timeout=60)
    sent = []
    for n in range(RECORDS):
        if n == RECORDS // 3:
            kill_node(data, 2)  # mid-run: a third of the writes are in flight or done
        sent.append(producer.send(topic, key=f"case-{n % 7}".encode(), value=f"event-{n}".encode()))
    acknowledged = [future.get(timeout=120) for future in sent]  # raises if any write failed
    producer.close()
    assert len(acknowledged) == RECORDS
    records = read_topic(bootstrap, topic, until=at_least(RECORDS + 3), timeout=120)
    values = sorted(r.value.decode() for r in records if r.value != b"warm-up")
    assert values == sorted(f"event-{n}" for n in range(RECORDS))  # none lost, none doubled

    # Two brokers gone: one copy cannot satisfy min.insync.replicas=2; the write is refused.
    kill_node(data, 3)
    strict = make_producer(bootstrap, "test-cluster-2", delivery_timeout_ms=15_000, request_timeout_ms=5_000)
    try:
        with pytest.raises(KafkaError):
            strict.send(topic, key=b"case-x", value=b"refused").get(timeout=60)
    finally:
        # Its refused record cannot be delivered, so the close's flush may time out too.
        with contextlib.suppress(KafkaError):
            strict.close(timeout=5)
