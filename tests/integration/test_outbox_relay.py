"""The outbox relay against real PostgreSQL and Kafka: order, bytes, leadership, no gaps,
and a relay killed with SIGKILL mid-publish that loses nothing when restarted."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shared import outbox as outbox_module
from shared.bus import ensure_topics, make_producer
from shared.clock import ManualClock, SystemClock
from shared.outbox import LOG_HASH_HEADER, POSITION_HEADER, OutboxRelay, RelayBatch
from shared.uow import SqlUnitOfWork
from tests.conftest import KafkaBroker, start_broker
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


def append_cases(engine: sa.Engine, clock, cases: int, per_case: int, first_case: int = 0) -> None:
    for version in range(per_case):
        for case in range(first_case, first_case + cases):
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


def backend_pid(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def last_position(conn: sa.Connection) -> int:
    """The highest position this connection's transaction can see (its own rows included)."""
    return int(conn.execute(sa.text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def wait_until_blocked(engine: sa.Engine, pid: int, by: int, timeout: float = 10) -> tuple[str, str]:
    """Wait until backend ``pid`` waits on a lock that backend ``by`` holds; return its wait event."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            blockers = conn.execute(sa.text("SELECT pg_blocking_pids(:p)"), {"p": pid}).scalar_one()
            if by in blockers:
                row = conn.execute(
                    sa.text("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = :p"),
                    {"p": pid},
                ).one()
                return str(row.wait_event_type), str(row.wait_event)
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited for backend {by}")


def test_a_writer_that_appended_holds_the_log_so_a_later_position_never_commits_first(
    engine: sa.Engine, kafka: KafkaBroker, new_topic: Callable[[], str]
) -> None:
    """The relay publishes "everything past its cursor", which would skip an event whose
    lower position committed after a higher one. The service-log lock (shared.eventstore)
    makes that order impossible: positions are taken under a transaction-scoped advisory lock
    held until commit, so a second writer cannot even take a position while the first is
    uncommitted. Here the second writer begins its transaction first, the first appends and
    then sits on its commit (the gap); the second's append waits for that lock, the relay sees
    nothing past its cursor during the gap, and every position is published once, in order."""
    topic = new_topic()
    relay = relay_for(engine, kafka, topic)
    append_cases(engine, SystemClock(), cases=1, per_case=1)  # position 1, committed
    assert relay.publish_pending() == RelayBatch(1, 1)

    began, go, appended, may_commit = (threading.Event() for _ in range(4))
    late: dict[str, Any] = {}
    committed: list[str] = []

    def late_writer() -> None:
        try:
            with SqlUnitOfWork(engine, SystemClock()) as uow:
                late["pid"] = backend_pid(uow.connection)
                assert uow.events.load("late") == []  # its transaction began before the early append
                began.set()
                assert go.wait(10)
                [late["envelope"]] = uow.events.append(
                    "late", [event()], expected_version=0, context=context()
                )
                late["position"] = last_position(uow.connection)
                appended.set()
                assert may_commit.wait(10)
                uow.commit()
                committed.append("late")
        except BaseException as exc:  # surfaced by the main thread
            late["error"] = exc
            appended.set()

    thread = threading.Thread(target=late_writer)
    thread.start()
    try:
        assert began.wait(10)
        with SqlUnitOfWork(engine, SystemClock()) as early:
            [early_envelope] = early.events.append("early", [event()], expected_version=0, context=context())
            early_position = last_position(early.connection)
            assert early_position == 2
            go.set()
            # The late writer's append queues behind the early writer's service-log lock ...
            assert wait_until_blocked(engine, late["pid"], by=backend_pid(early.connection)) == (
                "Lock",
                "advisory",
            )
            # ... for as long as the early writer has not committed: the gap.
            time.sleep(0.3)
            assert not appended.is_set(), "a second writer took a position while the first was uncommitted"
            assert relay.publish_pending() == RelayBatch(0, 1)  # nothing visible past the cursor
            assert cursor(engine) == 1
            early.commit()
            committed.append("early")
        assert appended.wait(10)
        assert "error" not in late, late.get("error")
        assert late["position"] == early_position + 1
        # The late writer holds the lock now: the relay publishes the early event and stops there.
        assert relay.publish_pending() == RelayBatch(1, 2)
        may_commit.set()
        thread.join(10)
    finally:
        go.set()
        may_commit.set()
        thread.join(10)
    assert "error" not in late, late.get("error")
    assert committed == ["early", "late"]  # commit order is position order
    assert relay.publish_pending() == RelayBatch(1, 3)
    assert relay.publish_pending() == RelayBatch(0, 3)

    records = read_topic(kafka.bootstrap, topic, until=at_least(3))
    by_position = {int(dict(r.headers)[POSITION_HEADER]): json.loads(r.value) for r in records}
    assert len(records) == 3 and sorted(by_position) == [1, 2, 3]  # each once, none skipped
    assert by_position[2]["event_id"] == early_envelope.event_id
    assert by_position[3]["event_id"] == late["envelope"].event_id
    with engine.connect() as conn:
        chain = conn.execute(
            sa.text("SELECT position, log_prev_hash, log_hash FROM events ORDER BY position")
        ).all()
    assert [c.position for c in chain] == [1, 2, 3]
    assert all(later.log_prev_hash == earlier.log_hash for earlier, later in itertools.pairwise(chain))


def test_no_event_is_skipped_while_concurrent_writers_queue_for_the_service_log(
    engine: sa.Engine, kafka: KafkaBroker, new_topic: Callable[[], str]
) -> None:
    """Four writers append at once while the relay runs; each holds the service-log lock from
    its append to its commit for a varying time, so the others queue behind it (positions
    commit in order by design: the test above shows the queueing) and the relay, polling
    throughout, publishes every position."""
    topic = new_topic()
    relay = relay_for(engine, kafka, topic, batch_size=20)
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,))
    relay_thread.start()

    def writer(n: int) -> None:
        for version in range(50):
            with SqlUnitOfWork(engine, SystemClock()) as uow:
                uow.events.append(f"w{n}", [event(v=version)], expected_version=version, context=context())
                time.sleep(0.001 * (n % 3))  # holding the service-log lock: the other writers wait
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
    with engine.connect() as conn:
        stored = {
            int(r.position): str(r.event_id)
            for r in conn.execute(sa.text("SELECT position, event_id FROM events"))
        }
    published = {int(dict(r.headers)[POSITION_HEADER]): json.loads(r.value)["event_id"] for r in records}
    assert published == stored  # each position carries the event stored there
    assert cursor(engine) == 200


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


def test_a_relay_overtaken_by_another_never_moves_the_cursor_backwards(
    engine: sa.Engine,
    kafka: KafkaBroker,
    new_topic: Callable[[], str],
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = new_topic()
    append_cases(engine, clock, cases=5, per_case=2)
    stale, leader = relay_for(engine, kafka, topic, batch_size=4), relay_for(engine, kafka, topic)
    send = stale._send_all

    def overtaken(rows: Any) -> None:
        # The stale relay has read its batch when the new leader publishes everything.
        assert leader.publish_pending().published == 10
        send(rows)

    monkeypatch.setattr(stale, "_send_all", overtaken)
    assert stale.publish_pending().published == 4
    assert cursor(engine) == 10  # not back to 4: events 5..10 are not published again
    assert leader.publish_pending().published == 0


def test_a_relay_that_kafka_cannot_take_says_so_keeps_its_cursor_and_publishes_when_it_is_back(
    engine: sa.Engine,
    tmp_path: Path,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_module, "STALL_WARNING_S", 1.0)
    broker = start_broker(tmp_path / "kafka")
    try:
        topic = "stalled.case-events"
        ensure_topics(broker.bootstrap, [topic], partitions=3, replication=1)
        relay = relay_for(engine, broker, topic)
        append_cases(engine, clock, cases=2, per_case=1)
        assert relay.publish_pending().published == 2  # connected, and its metadata known
        broker.stop()
        append_cases(engine, clock, cases=2, per_case=1, first_case=2)
        batch: list[RelayBatch] = []
        publishing = threading.Thread(target=lambda: batch.append(relay.publish_pending()))
        publishing.start()
        deadline = time.monotonic() + 30
        while "relay waiting on Kafka: 2 of 2 events not acknowledged" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.2)
        assert cursor(engine) == 2  # nothing counted as published that Kafka does not have
        broker.start()
        publishing.join(120)
        assert batch == [RelayBatch(2, 4)]
        assert cursor(engine) == 4
        assert len(read_topic(broker.bootstrap, topic, until=distinct_event_ids(4))) >= 4
    finally:
        broker.stop()
