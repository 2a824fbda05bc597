"""Kafka, through kafka-python: topic names, topic creation, producers and consumers.

One partitioner everywhere: kafka-python's default is murmur2 on the key, like Java's, and
the key is always the case id, so one case's events share a partition and keep their order.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

# The log is the audit record: never expire it.
TOPIC_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}


def dlq_topic(topic: str) -> str:
    """Where a consumer parks the records of ``topic`` it cannot handle."""
    return f"{topic}.dlq"


def with_dlqs(topics: Iterable[str]) -> list[str]:
    """``topics`` and their dead-letter topics: everything the system needs created."""
    return [t for topic in topics for t in (topic, dlq_topic(topic))]


def ensure_topics(bootstrap: str, topics: Iterable[str], *, partitions: int, replication: int) -> list[str]:
    """Create the missing ``topics`` with unlimited retention; return the ones created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="netra-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [t for t in topics if t not in existing]
        if not wanted:
            return []
        # With three copies a write needs two (acks=all): one broker may be lost, never a write.
        configs = {**TOPIC_CONFIG, "min.insync.replicas": "2" if replication >= 3 else "1"}
        new = [NewTopic(t, partitions, replication, topic_configs=configs) for t in wanted]
        with contextlib.suppress(TopicAlreadyExistsError):  # another process was faster
            admin.create_topics(new)
        log.info("topics created", extra={"topics": wanted})
        return wanted
    finally:
        admin.close()


def make_producer(bootstrap: str, client_id: str, **overrides: object) -> KafkaProducer:
    """An idempotent producer that waits for all in-sync replicas: nothing acked is lost."""
    settings: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        "retries": 2**31 - 1,
        "delivery_timeout_ms": 120_000,
    }
    settings.update(overrides)
    return KafkaProducer(**settings)


# A consumer that dies for good frees its partitions for the group's other members after
# this long; one that is restarted (same static instance id) takes them back at once.
SESSION_TIMEOUT_MS = 10_000


def make_consumer(
    bootstrap: str, group_id: str, topics: Iterable[str], instance: str | None = None, **overrides: object
) -> KafkaConsumer:
    """A consumer that commits offsets itself, only after its database transaction. With
    ``instance`` it joins as the static member ``<group_id>-<instance>`` (KIP-345): restarted,
    it is given its partitions again without waiting for the dead member's session to expire
    (kafka-python's default 45 s; measured: tests/integration/test_consumer_restart.py)."""
    settings: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "client_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 200,
        "metadata_max_age_ms": 30_000,  # a safety net: new partitions are noticed within 30 s
        "fetch_max_wait_ms": 50,  # measured: the default 500 ms roughly doubled end-to-end latency
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": SESSION_TIMEOUT_MS // 4,
    }
    if instance is not None:
        settings["group_instance_id"] = f"{group_id}-{instance}"
    settings.update(overrides)
    consumer = KafkaConsumer(**settings)
    wanted = list(topics)
    _await_metadata(consumer, wanted)
    consumer.subscribe(wanted)
    return consumer


def _await_metadata(consumer: KafkaConsumer, topics: list[str], timeout_s: float = 30.0) -> None:
    """Wait until the broker's metadata lists ``topics``: a topic created a moment ago may
    not be in the first metadata answer, and a group assignment made without it would
    leave the consumer idle until the next metadata refresh."""
    deadline = time.monotonic() + timeout_s
    missing = topics
    while missing and time.monotonic() < deadline:
        missing = [t for t in topics if not consumer.partitions_for_topic(t)]
        if missing:
            time.sleep(0.2)
    if missing:
        log.warning("subscribing before these topics exist: %s", ", ".join(missing))


def kafka_reachable(bootstrap: str, timeout_s: float = 2.0) -> str | None:
    """None when a broker answers within ``timeout_s``, else the reason it did not."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="netra-readyz",
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        admin.describe_cluster()
        return None
    except KafkaError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        admin.close()
