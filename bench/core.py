"""The event-sourcing core benchmarks (``make bench``): the core's speed, each figure beside the raw baseline
measured in the same run on the same PostgreSQL and Kafka (started here on free ports).

  append    events appended per second through the store (one event per command, hashed,
            service-log chained, outbox implied), vs raw single-row INSERT+COMMIT (psycopg)
  append×4  the same with 4 concurrent writer processes
  relay     events per second from the store to Kafka, vs the raw kafka-python producer with
            the same message sizes and settings
  latency   append → consumer's inbox commit, p50/p99, at a steady 200 events/s
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from shared.bus import ensure_topics, make_consumer, make_producer
from shared.clock import SystemClock
from shared.config import REPO_ROOT
from shared.db import create_engine, ensure_database, migrate
from shared.envelope import Actor, Context, Envelope, NewEvent
from shared.inbox import InboxConsumer, Record
from shared.outbox import OutboxRelay
from shared.pg_embedded import EmbeddedPostgres, free_port
from shared.uow import SqlUnitOfWork

KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"
CONTEXT = Context(Actor("bench", "system"), correlation_id="bench")
PAYLOAD = {"description": "x" * 400, "codes": ["N2"], "agency": "Pemerintah Provinsi Bali"}


def new_event() -> NewEvent:
    return NewEvent("bench.something_happened", PAYLOAD, occurred_at=datetime.now(UTC))


# --- append ---------------------------------------------------------------------------------


def raw_commits(url: str, count: int, tag: str) -> None:
    """Baseline: one INSERT + COMMIT per row, a row of the store's size, through psycopg."""
    body = "x" * 1000  # about the size of a stored envelope with PAYLOAD
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for i in range(count):
            conn.execute("INSERT INTO raw_rows (tag, n, body) VALUES (%s, %s, %s)", (tag, i, body))
            conn.commit()


def store_appends(url: str, count: int, tag: str) -> None:
    """One command per event: a unit of work, append at the known version, commit."""
    engine = create_engine(url, pool_size=1)
    clock = SystemClock()
    for version in range(count):
        with SqlUnitOfWork(engine, clock) as uow:
            uow.events.append(f"{tag}-case", [new_event()], expected_version=version, context=CONTEXT)
            uow.commit()
    engine.dispose()


def rate(work: Callable[[str, int, str], None], url: str, count: int, writers: int) -> float:
    """Events per second for ``writers`` processes doing ``count`` items in all."""
    per = count // writers
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=work, args=(url, per, uuid.uuid4().hex)) for _ in range(writers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return per * writers / (time.perf_counter() - started)


# --- relay ----------------------------------------------------------------------------------


def relay_rate(url: str, bootstrap: str, count: int) -> tuple[float, int]:
    """Publish ``count`` stored events with the relay; return (events/s, message bytes)."""
    engine = create_engine(url)
    cases = 50
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE outbox"))
    fill(engine, count, cases)
    topic = fresh_topic(bootstrap)
    relay = OutboxRelay(engine, lambda: make_producer(bootstrap, "bench-relay"), topic=topic, name="bench")
    with engine.connect() as conn:
        size = int(conn.execute(sa.text("SELECT avg(octet_length(envelope)) FROM events")).scalar_one())
        already = int(conn.execute(sa.text("SELECT max(position) FROM events")).scalar_one()) - count
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO outbox (relay, published_position) VALUES ('bench', :p)"), {"p": already}
        )
    relay.publish_pending()  # warm-up: connects the producer
    started, published = time.perf_counter(), 0
    while published < count - 500:
        published += relay.publish_pending().published
    return published / (time.perf_counter() - started), size


def raw_producer_rate(bootstrap: str, count: int, size: int) -> float:
    """Baseline: kafka-python alone, same settings and message size, batches of 500 + flush."""
    topic = fresh_topic(bootstrap)
    producer = make_producer(bootstrap, "bench-raw")
    value = b"x" * size
    producer.send(topic, key=b"warm", value=value).get(timeout=30)
    started = time.perf_counter()
    for start in range(0, count, 500):
        futures = [
            producer.send(topic, key=f"case-{i % 50}".encode(), value=value)
            for i in range(start, start + 500)
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=0)
    elapsed = time.perf_counter() - started
    producer.close()
    return count / elapsed


def fill(engine: sa.Engine, count: int, cases: int) -> None:
    clock = SystemClock()
    versions = dict.fromkeys(range(cases), 0)
    for i in range(count):
        case = i % cases
        with SqlUnitOfWork(engine, clock) as uow:
            uow.events.append(
                f"relay-{case}", [new_event()], expected_version=versions[case], context=CONTEXT
            )
            uow.commit()
        versions[case] += 1


def fresh_topic(bootstrap: str) -> str:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [topic, f"{topic}.dlq"], partitions=6, replication=1)
    return topic


# --- end to end -----------------------------------------------------------------------------


class TimedInbox(InboxConsumer):
    """The real consumer, noting when each event's inbox transaction committed."""

    committed: dict[str, float]

    def handle(self, record: Record, *, releasing: int | None = None) -> str:
        outcome = super().handle(record, releasing=releasing)
        if record.value:
            self.committed[Envelope.from_bytes(record.value).event_id] = time.perf_counter()
        return outcome


def latency(url: str, consumer_url: str, bootstrap: str, per_second: int, seconds: int) -> list[float]:
    """Milliseconds from append commit to inbox commit for a steady stream of events."""
    engine, consumer_engine = create_engine(url), create_engine(consumer_url)
    topic = fresh_topic(bootstrap)
    with engine.begin() as conn:
        last = conn.execute(sa.text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
        conn.execute(
            sa.text("INSERT INTO outbox (relay, published_position) VALUES ('e2e', :p)"), {"p": last}
        )
    relay = OutboxRelay(engine, lambda: make_producer(bootstrap, "bench-e2e"), topic=topic, name="e2e")
    inbox = TimedInbox(
        "bench-inbox",
        consumer_engine,
        SystemClock(),
        {},
        dlq_producer=lambda: make_producer(bootstrap, "d"),
        service="b",
    )
    inbox.committed = {}
    stop = threading.Event()
    kafka_consumer = make_consumer(bootstrap, f"bench-{uuid.uuid4().hex[:6]}", [topic])
    threads = [
        threading.Thread(target=relay.run, args=(stop,)),
        threading.Thread(target=inbox.run, args=(kafka_consumer, stop)),
    ]
    for t in threads:
        t.start()
    time.sleep(3)  # leadership, group join
    appended: dict[str, float] = {}
    clock, interval = SystemClock(), 1.0 / per_second
    next_at = time.perf_counter()
    for i in range(per_second * seconds):
        with SqlUnitOfWork(engine, clock) as uow:
            [sealed] = uow.events.append(f"e2e-{i}", [new_event()], expected_version=0, context=CONTEXT)
            uow.commit()
        appended[sealed.event_id] = time.perf_counter()
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    deadline = time.perf_counter() + 30
    while len(inbox.committed) < len(appended) and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(30)
    kafka_consumer.close(autocommit=False)
    return [(inbox.committed[e] - t0) * 1000 for e, t0 in appended.items() if e in inbox.committed]


# --- running it -----------------------------------------------------------------------------


def line(name: str, figure: float, baseline: float, unit: str, target: float) -> None:
    ratio = figure / baseline
    verdict = "meets" if ratio >= target else "BELOW"
    print(
        f"{name:<10} {figure:>9,.0f} {unit:<9} baseline {baseline:>9,.0f}  ratio {ratio:6.1%}  ({verdict} target {target:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000, help="events per append measurement")
    parser.add_argument("--relay-events", type=int, default=20000)
    parser.add_argument("--e2e-seconds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netra-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg")
        server = pg.start()
        kafka_dir, port = Path(tmp) / "kafka", free_port()
        subprocess.run([str(KAFKA_SH), "start", str(kafka_dir), str(port), str(free_port())], check=True)
        bootstrap = f"127.0.0.1:{port}"
        try:
            run_all(server, bootstrap, args)
        finally:
            subprocess.run([str(KAFKA_SH), "stop", str(kafka_dir)], check=False)
            pg.stop()


def database(server: str, name: str) -> str:
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    ensure_database(url)
    migrate(url, "intake")
    with sa.create_engine(url).begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS raw_rows (id bigserial PRIMARY KEY, tag text, n int, body text)"
            )
        )
    return url


def run_all(server: str, bootstrap: str, args: Any) -> None:
    print(f"PostgreSQL {server}, Kafka {bootstrap}; {mp.cpu_count()} cores\n")
    url = database(server, "bench_store")
    rate(raw_commits, url, 300, 1), rate(store_appends, url, 300, 1)  # warm-up
    line(
        "append",
        rate(store_appends, url, args.events, 1),
        rate(raw_commits, url, args.events, 1),
        "ev/s",
        0.60,
    )
    line(
        "append×4",
        rate(store_appends, url, args.events, 4),
        rate(raw_commits, url, args.events, 4),
        "ev/s",
        0.60,
    )
    relay, size = relay_rate(url, bootstrap, args.relay_events)
    line("relay", relay, raw_producer_rate(bootstrap, args.relay_events, size), "ev/s", 0.50)
    print(f"           (messages of {size} bytes, acks=all, idempotent, linger 5 ms)")
    millis = latency(url, database(server, "bench_consumer"), bootstrap, 200, args.e2e_seconds)
    p50, p99 = statistics.median(millis), statistics.quantiles(millis, n=100)[98]
    print(
        f"latency    append → inbox commit at 200 ev/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms over {len(millis)} events (target p99 < 250 ms)"
    )
