"""The outbox relay against real PostgreSQL and Kafka: order, bytes, leadership, no gaps,
and a relay killed with SIGKILL mid-publish that loses nothing when restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import sqlalchemy as sa

from shared.bus import make_producer
from shared.clock import ManualClock, SystemClock
from shared.outbox import LOG_HASH_HEADER, POSITION_HEADER, OutboxRelay
from shared.uow import SqlUnitOfWork
from tests.conftest import KafkaBroker
from tests.support.events import context, event
from tests.support.kafka import at_least, distinct_event_ids, read_topic


def relay_for(engine: sa.Engine, kafka: KafkaBroker, topic: str, batch_size: int = 500) -> OutboxRelay:
    return OutboxRelay(
        engine,
        lambda: make_producer(kafka.bootstrap, "test-relay"),
        topic=topic,
        name="intake",
        batch_size=batch_size,
    )


def append_cases(engine: sa.Engine, clock, cases: int, per_case: int) -> None:
    for version in range(per_case):
        for case in range(cases):
            with SqlUnitOfWork(engine, clock) as uow:
                uow.events.append(
                    f"case-{case}", [event(v=version)], expected_version=version, context=context()
                )
                uow.commit()


def cursor(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT published_position FROM outbox WHERE relay = 'intake'")).scalar_one()
        )


def test_relay_publishes_the_stored_bytes_in_position_order_keyed_by_case(
    engine: sa.Engine, kafka: KafkaBroker, new_topic: Callable[[], str], clock: ManualClock
) -> None:
    topic = new_topic()
    append_cases(engine, clock, cases=3, per_case=2)
    relay = relay_for(engine, kafka, topic)
    assert relay.publish_pending().published == 6
    assert relay.publish_pending().published == 0
    assert cursor(engine) == 6
    records = read_topic(kafka.bootstrap, topic, until=at_least(6))
    with engine.connect() as conn:
        stored = {r.position: r for r in conn.execute(sa.text("SELECT * FROM events"))}
    for record in records:
        headers = dict(record.headers)
        row = stored[int(headers[POSITION_HEADER])]
        assert record.value == row.envelope.encode()
        assert record.key == row.stream_id.encode()
        assert headers[LOG_HASH_HEADER] == row.log_hash.encode()
    by_case = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_case[record.key].append(json.loads(record.value)["stream_version"])
    assert all(versions == [1, 2] for versions in by_case.values())


def test_only_one_relay_leads_at_a_time(
    engine: sa.Engine, kafka: KafkaBroker, new_topic: Callable[[], str]
) -> None:
    topic = new_topic()
    first, second = relay_for(engine, kafka, topic), relay_for(engine, kafka, topic)
    with first.leadership() as leading:
        assert leading is not None
        with second.leadership() as standby:
            assert standby is None
    # the leader's session ended, and its lock with it
    with second.leadership() as leading:
        assert leading is not None


def test_no_event_is_skipped_while_concurrent_writers_commit_out_of_order(
    engine: sa.Engine, kafka: KafkaBroker, new_topic: Callable[[], str]
) -> None:
    topic = new_topic()
    relay = relay_for(engine, kafka, topic, batch_size=20)
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,))
    relay_thread.start()

    def writer(n: int) -> None:
        for version in range(50):
            with SqlUnitOfWork(engine, SystemClock()) as uow:
                uow.events.append(f"w{n}", [event(v=version)], expected_version=version, context=context())
                time.sleep(0.001 * (n % 3))  # commits land in varying order
                uow.commit()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    records = read_topic(kafka.bootstrap, topic, until=distinct_event_ids(200))
    stop.set()
    relay_thread.join(10)
    positions = {int(dict(r.headers)[POSITION_HEADER]) for r in records}
    assert positions == set(range(1, 201))


def test_a_relay_killed_mid_publish_resends_from_its_cursor_and_loses_nothing(
    engine: sa.Engine, kafka: KafkaBroker, clock: ManualClock
) -> None:
    prefix = f"kill{os.getpid()}{int(time.time())}."
    topic = f"{prefix}intake.case-events"
    append_cases(engine, clock, cases=50, per_case=40)  # 2,000 events
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "NETRA_TOPIC_PREFIX": prefix,
        "NETRA_TOPIC_PARTITIONS": "3",
    }
    command = [sys.executable, "-m", "netra.cli", "relay", "intake", "--batch-size", "50"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        read_topic(kafka.bootstrap, topic, until=at_least(300), timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    published_before_restart = cursor(engine)
    assert 0 < published_before_restart < 2000
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        records = read_topic(kafka.bootstrap, topic, until=distinct_event_ids(2000), timeout=120)
    finally:
        second.terminate()
        second.wait(30)
    assert second.returncode == 0, "the relay stops cleanly on SIGTERM"
    envelopes = [json.loads(r.value) for r in sorted(records, key=lambda r: (r.partition, r.offset))]
    assert len({e["event_id"] for e in envelopes}) == 2000
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: dict[str, dict] = {}
    for envelope in envelopes:
        if envelope["event_id"] in seen:
            assert seen[envelope["event_id"]] == envelope  # a duplicate is the same event, byte for byte
            continue
        seen[envelope["event_id"]] = envelope
        first_seen[envelope["stream_id"]].append(envelope["stream_version"])
    assert all(versions == list(range(1, 41)) for versions in first_seen.values())
    assert cursor(engine) == 2000
