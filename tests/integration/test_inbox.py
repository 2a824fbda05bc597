"""The inbox consumer against real PostgreSQL and Kafka: duplicates, a crash between the
database commit and the offset commit, and poison records parked on the DLQ."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from kafka import KafkaProducer

from shared.bus import dlq_topic, make_consumer, make_producer
from shared.clock import ManualClock
from shared.envelope import Actor, Context, Envelope, NewEvent
from shared.inbox import InboxConsumer, PoisonRecord, Record
from shared.schema import held, quarantine
from shared.uow import SqlUnitOfWork
from tests.conftest import KafkaBroker
from tests.support.events import envelope
from tests.support.kafka import at_least, read_topic


def note_it(received: Envelope, uow: SqlUnitOfWork) -> None:
    """A handler with an effect to count: one event per handled record, in the same case."""
    if received.payload.get("bad"):
        raise PoisonRecord("payload field 'bad' is not allowed")
    version = len(uow.events.load(received.stream_id))
    uow.events.append(
        received.stream_id,
        [NewEvent("test.noted", {"source": received.event_id}, occurred_at=uow.clock.now())],
        expected_version=version,
        context=_context(received),
    )


def _context(received: Envelope) -> Context:
    return Context(Actor("consumer", "system"), received.correlation_id, causation_id=received.event_id)


@pytest.fixture
def inbox(engine: sa.Engine, kafka: KafkaBroker, clock: ManualClock) -> InboxConsumer:
    return InboxConsumer(
        "test-inbox",
        engine,
        clock,
        {"test.something_happened": note_it},
        dlq_producer=lambda: make_producer(kafka.bootstrap, "test-dlq"),
        service="test",
    )


@pytest.fixture
def producer(kafka: KafkaBroker) -> Iterator[KafkaProducer]:
    p = make_producer(kafka.bootstrap, "test-source")
    yield p
    p.close()


def publish(producer: KafkaProducer, topic: str, *values: tuple[str, bytes]) -> None:
    for key, value in values:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()


def consume(
    inbox: InboxConsumer, kafka: KafkaBroker, topic: str, until: Callable[[], bool], group: str
) -> None:
    """Run the real consumer loop until ``until()`` holds (or 60 s)."""
    stop = threading.Event()
    consumer = make_consumer(kafka.bootstrap, group, [topic])
    thread = threading.Thread(target=inbox.run, args=(consumer, stop))
    thread.start()
    try:
        for _ in range(600):
            if until():
                break
            stop.wait(0.1)
    finally:
        stop.set()
        thread.join(30)
        consumer.close(autocommit=False)
    assert until(), "the consumer did not get there in 60 s"


def noted(engine: sa.Engine, stream_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT event_type FROM events WHERE stream_id = :s ORDER BY stream_version"),
                {"s": stream_id},
            ).scalars()
        )


def test_the_same_record_delivered_twice_changes_nothing(
    inbox: InboxConsumer,
    engine: sa.Engine,
    kafka: KafkaBroker,
    new_topic: Callable[[], str],
    producer: KafkaProducer,
) -> None:
    topic = new_topic()
    once = envelope("case-1").to_bytes()
    publish(producer, topic, ("case-1", once), ("case-1", once))
    consume(
        inbox,
        kafka,
        topic,
        until=lambda: _inbox_offsets(engine) == [0] and _committed(kafka, topic),
        group="g1",
    )
    assert noted(engine, "case-1") == ["test.noted"]


def test_a_consumer_that_dies_after_the_database_commit_rereads_and_changes_nothing(
    inbox: InboxConsumer,
    engine: sa.Engine,
    kafka: KafkaBroker,
    new_topic: Callable[[], str],
    producer: KafkaProducer,
) -> None:
    topic = new_topic()
    publish(producer, topic, ("case-1", envelope("case-1").to_bytes()))
    crashing = make_consumer(kafka.bootstrap, "g-crash", [topic])
    [message] = read_one(crashing)
    assert inbox.handle(Record.of(message)) == "handled"  # database committed ...
    crashing.close(autocommit=False)  # ... and the process died before committing the offset
    again = make_consumer(kafka.bootstrap, "g-crash", [topic])
    [redelivered] = read_one(again)
    again.close(autocommit=False)
    assert redelivered.offset == message.offset
    assert inbox.handle(Record.of(redelivered)) == "duplicate"
    assert noted(engine, "case-1") == ["test.noted"]


def test_a_poison_record_is_parked_its_case_waits_and_other_cases_go_on(
    inbox: InboxConsumer,
    engine: sa.Engine,
    kafka: KafkaBroker,
    new_topic: Callable[[], str],
    producer: KafkaProducer,
) -> None:
    topic = new_topic()
    first = envelope("case-a")
    publish(
        producer,
        topic,
        ("case-a", first.to_bytes()),
        ("case-a", b"{not json"),
        ("case-a", envelope("case-a", 2, first.hash).to_bytes()),
        ("case-b", envelope("case-b").to_bytes()),
    )
    consume(
        inbox,
        kafka,
        topic,
        until=lambda: len(_held(engine)) == 1 and bool(noted(engine, "case-b")),
        group="g2",
    )
    assert noted(engine, "case-a") == ["test.noted"]  # only the record before the poison
    assert noted(engine, "case-b") == ["test.noted"]  # another case is not held up
    [parked] = read_topic(kafka.bootstrap, dlq_topic(topic), until=at_least(1))
    assert parked.value == b"{not json" and parked.key == b"case-a"
    assert b"unparseable envelope" in dict(parked.headers)["netra-reason"]

    outcome = inbox.release(
        _open_quarantine(engine), actor=Actor("operator-1", "admin"), resolution="garbage from a test"
    )
    assert outcome == {"handled": 1}
    assert noted(engine, "case-a") == ["test.noted", "test.parked_record_resolved", "test.noted"]
    assert _held(engine) == [] and _open_quarantines(engine) == []


def test_a_payload_the_handler_rejects_and_a_tampered_event_are_parked_with_their_reasons(
    inbox: InboxConsumer, engine: sa.Engine, new_topic: Callable[[], str]
) -> None:
    topic = new_topic()
    bad = envelope("case-x", bad=True)
    assert inbox.handle(Record(topic, 0, 1, b"case-x", bad.to_bytes())) == "parked"
    tampered = Envelope(**{**envelope("case-y").__dict__, "payload": {"n": 2}})
    assert inbox.handle(Record(topic, 0, 2, b"case-y", tampered.to_bytes())) == "parked"
    with engine.connect() as conn:
        reasons = dict(conn.execute(sa.select(quarantine.c.stream_key, quarantine.c.reason)).all())
    assert "payload field 'bad' is not allowed" in reasons["case-x"]
    assert reasons["case-y"] == f"hash mismatch on event {tampered.event_id}"
    assert noted(engine, "case-x") == [] and noted(engine, "case-y") == []


def read_one(consumer) -> list:
    for _ in range(100):
        batch = consumer.poll(timeout_ms=200, max_records=1)
        if batch:
            return [m for messages in batch.values() for m in messages]
    raise AssertionError("nothing to read")


def _inbox_offsets(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text('SELECT "offset" FROM inbox ORDER BY "offset"')).scalars())


def _committed(kafka: KafkaBroker, topic: str) -> bool:
    from kafka import KafkaConsumer, TopicPartition

    probe = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id="g1", enable_auto_commit=False)
    try:
        offsets = [
            probe.committed(TopicPartition(topic, p)) or 0 for p in probe.partitions_for_topic(topic) or []
        ]
        return sum(offsets) == 2
    finally:
        probe.close(autocommit=False)


def _held(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(held).where(held.c.released_at.is_(None))).all())


def _open_quarantines(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.select(quarantine.c.id).where(quarantine.c.resolved_at.is_(None))).scalars()
        )


def _open_quarantine(engine: sa.Engine) -> int:
    [only] = _open_quarantines(engine)
    return only


def test_a_lost_race_is_retried_and_a_handler_bug_parks_only_its_case(
    engine: sa.Engine, kafka: KafkaBroker, clock: ManualClock, new_topic: Callable[[], str]
) -> None:
    raced: set[str] = set()

    def handler(received: Envelope, uow: SqlUnitOfWork) -> None:
        if received.payload.get("bug"):
            raise KeyError("allegations")  # a bug: the handler expected a field that is not there
        if received.payload.get("race") and received.stream_id not in raced:
            raced.add(received.stream_id)
            uow.events.load(received.stream_id)
            command_appends(engine, clock, received.stream_id)  # between our load and our append
        note_it(received, uow)

    inbox = InboxConsumer(
        "test-inbox",
        engine,
        clock,
        {"test.something_happened": handler},
        dlq_producer=lambda: make_producer(kafka.bootstrap, "test-dlq"),
        service="test",
    )
    topic = new_topic()
    buggy = envelope("case-bug", bug=True)
    producer = make_producer(kafka.bootstrap, "test-source")
    for key, value in [
        ("case-race", envelope("case-race", race=True).to_bytes()),
        ("case-bug", buggy.to_bytes()),
        ("case-bug", envelope("case-bug", 2, buggy.hash).to_bytes()),
        ("case-ok", envelope("case-ok").to_bytes()),
    ]:
        producer.send(topic, key=key.encode(), value=value, partition=0)  # one partition for all
    producer.flush()
    producer.close()
    consume(
        inbox,
        kafka,
        topic,
        until=lambda: bool(noted(engine, "case-ok")) and len(_held(engine)) == 1,
        group="g-bugs",
    )
    # The race was retried against the new head; the bug parked its case only.
    assert noted(engine, "case-race") == ["test.command", "test.noted"]
    assert noted(engine, "case-ok") == ["test.noted"]
    assert noted(engine, "case-bug") == []
    with engine.connect() as conn:
        [reason] = conn.execute(sa.select(quarantine.c.reason)).scalars()
    assert reason.startswith("KeyError in the handler of test.something_happened (error ")
    assert reason.endswith("): 'allegations'")
    [parked] = read_topic(kafka.bootstrap, dlq_topic(topic), until=at_least(1))
    assert parked.key == b"case-bug" and dict(parked.headers)["netra-reason"] == reason.encode()


def command_appends(engine: sa.Engine, clock: ManualClock, case: str) -> None:
    """What an HTTP command does to the case meanwhile, in its own transaction."""
    with SqlUnitOfWork(engine, clock) as uow:
        version = len(uow.events.load(case))
        new = NewEvent("test.command", {}, occurred_at=clock.now())
        uow.events.append(
            case, [new], expected_version=version, context=Context(Actor("i", "investigator"), case)
        )
        uow.commit()
