"""The chosen Apache Kafka release (deploy/kafka/pom.xml) works with kafka-python for every
feature Netra relies on. Run with KAFKA_VERSION=x.y.z to try another release."""

from __future__ import annotations

import os
import re
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from shared.bus import TOPIC_CONFIG, ensure_topics, make_producer
from shared.config import REPO_ROOT
from tests.conftest import KafkaBroker
from tests.support.kafka import at_least, read_topic


def pom_version() -> str:
    pom = (REPO_ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    match = re.search(r"<kafka.version>(.+?)</kafka.version>", pom)
    assert match
    return match.group(1)


def test_the_broker_under_test_is_the_release_the_pom_names(kafka: KafkaBroker) -> None:
    expected = os.environ.get("KAFKA_VERSION", pom_version())
    assert f"Kafka version: {expected}" in (kafka.data_dir / "server.log").read_text()
    assert "process.roles=broker,controller" in (kafka.data_dir / "server.properties").read_text()


def test_topics_are_created_with_unlimited_retention(kafka: KafkaBroker) -> None:
    topic = f"compat-{uuid.uuid4().hex[:8]}"
    assert ensure_topics(kafka.bootstrap, [topic], partitions=3, replication=1) == [topic]
    assert ensure_topics(kafka.bootstrap, [topic], partitions=3, replication=1) == []
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    configs = described["topic"][topic]
    assert configs["retention.ms"]["value"] == TOPIC_CONFIG["retention.ms"] == "-1"


def test_idempotent_producer_headers_and_committed_offsets_round_trip(kafka: KafkaBroker) -> None:
    topic = f"compat-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka.bootstrap, [topic], partitions=3, replication=1)
    producer = make_producer(kafka.bootstrap, "compat")
    futures = [
        producer.send(topic, key=f"case-{i % 5}".encode(), value=str(i).encode(), headers=[("h", b"v")])
        for i in range(100)
    ]
    producer.flush()
    metadata = [f.get(timeout=10) for f in futures]
    producer.close()
    by_key: dict[str, set[int]] = {}
    for i, sent in enumerate(metadata):
        by_key.setdefault(f"case-{i % 5}", set()).add(sent.partition)
    assert all(len(partitions) == 1 for partitions in by_key.values()), "one case, one partition"

    records = read_topic(kafka.bootstrap, topic, until=at_least(100))
    assert sorted(int(r.value) for r in records) == list(range(100))
    assert all(r.headers == [("h", b"v")] for r in records)

    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=group, enable_auto_commit=False)
    tp = TopicPartition(topic, metadata[0].partition)
    consumer.assign([tp])
    consumer.commit({tp: OffsetAndMetadata(7, "", -1)})
    assert consumer.committed(tp) == 7
    consumer.close(autocommit=False)
