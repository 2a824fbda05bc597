"""The event-sourcing core benchmarks (``make bench``): the core's speed, each figure beside the raw baseline
measured in the same run on the same PostgreSQL and Kafka (started here on free ports).

  append    events appended per second through the store (one event per command, hashed,
            service-log chained, outbox implied), vs raw single-row INSERT+COMMIT (psycopg)
  append×4  the same with 4 concurrent writer processes
  relay     events per second from the store to Kafka, vs the raw kafka-python producer with
            the same message sizes and settings
  latency   append → consumer's inbox commit, p50/p99, at a steady 200 events/s
            (these four alone: --only core)
  reports   reports accepted per second over HTTP through gunicorn, 16 clients, vs the trivial
            /healthz on the same gunicorn configuration (bench.intake_http; --only intake)
  audit     netra audit verify and replay over 100,000 and 200,000 events, vs raw kafka-python
            consumption of the same topic, with each run's peak RSS (bench.audit; --only audit)
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.audit import run_audit
from bench.intake_http import run_intake_http
from bench.results import REPORT, RUN, Figure, load_runs, write_report
from shared.bus import ensure_topics, make_producer
from shared.clock import SystemClock
from shared.config import REPO_ROOT
from shared.db import create_engine, ensure_database, migrate
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal
from shared.eventstore import APPEND_SQL, SERVICE_LOG_LOCK, stored_row
from shared.outbox import OutboxRelay
from shared.pg_embedded import EmbeddedPostgres, free_port
from shared.uow import SqlUnitOfWork

KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"
CONTEXT = Context(Actor("bench", "system"), correlation_id="bench")
PAYLOAD = {"description": "x" * 400, "codes": ["N2"], "agency": "Pemerintah Provinsi Bali"}


def new_event() -> NewEvent:
    return NewEvent("bench.something_happened", PAYLOAD, occurred_at=datetime.now(UTC))


# --- append ---------------------------------------------------------------------------------


def raw_commits(url: str, count: int, tag: str, ready: Any) -> None:
    """Baseline: one INSERT + COMMIT per row, a row of the store's size, through psycopg."""
    body = "x" * 1000  # about the size of a stored envelope with PAYLOAD
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        ready.wait()
        for i in range(count):
            conn.execute("INSERT INTO raw_rows (tag, n, body) VALUES (%s, %s, %s)", (tag, i, body))
            conn.commit()


def store_appends(url: str, count: int, tag: str, ready: Any) -> None:
    """One command per event: a unit of work, append at the known version, commit."""
    engine = create_engine(url, pool_size=1)
    clock = SystemClock()
    ready.wait()
    for version in range(count):
        with SqlUnitOfWork(engine, clock) as uow:
            uow.events.append(f"{tag}-case", [new_event()], expected_version=version, context=CONTEXT)
            uow.commit()
    engine.dispose()


def rate(work: Callable[..., None], url: str, count: int, writers: int) -> float:
    """Events per second for ``writers`` processes doing ``count`` items in all, timed from
    the moment all of them are connected (process start-up is not the store's cost)."""
    per = count // writers
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(writers + 1)
    procs = [ctx.Process(target=work, args=(url, per, uuid.uuid4().hex, ready)) for _ in range(writers)]
    for p in procs:
        p.start()
    ready.wait()
    started = time.perf_counter()
    for p in procs:
        p.join()
    return per * writers / (time.perf_counter() - started)


def print_append_breakdown(url: str, count: int = 1000) -> None:
    """Where an append's time goes, each part timed alone in this process (µs per append)."""
    clock = SystemClock()
    netra, bare = create_engine(url, pool_size=1), create_engine(url, pool_size=1, pre_ping=False)
    pinged = sa.create_engine(url, pool_size=1, pool_pre_ping=True)  # SQLAlchemy's ping on every checkout

    def per_op(work: Callable[[], None]) -> float:
        started = time.perf_counter()
        for _ in range(count):
            work()
        return (time.perf_counter() - started) / count * 1e6

    def seal_one_envelope() -> Envelope:
        return seal(
            new_event(),
            stream_id="s",
            stream_version=1,
            prev_hash=GENESIS_HASH,
            context=CONTEXT,
            recorded_at=clock.now(),
        )

    def seal_one() -> None:
        seal_one_envelope().to_bytes()

    def transaction(engine: sa.Engine) -> Callable[[], None]:
        def run() -> None:
            with SqlUnitOfWork(engine, clock) as uow:
                uow.connection.exec_driver_sql("SELECT 1").scalar()
                uow.commit()

        return run

    with psycopg.connect(url.replace("+psycopg", "")) as conn:

        def psycopg_transaction() -> None:
            conn.execute("SELECT 1").fetchone()
            conn.commit()

        (last,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone() or (0,)
        positions = itertools.count(int(last) + 1)
        envelope, digest = "x" * 1000, "0" * 64

        def events_row() -> None:
            # The floor: the store's own row in its own table (every index), no lock, no chain.
            n = next(positions)
            conn.execute(_EVENTS_ROW, (n, uuid.uuid4(), f"floor-{n}", envelope, digest, digest, digest))
            conn.commit()

        row = stored_row(seal_one_envelope())

        def function_call() -> None:
            # The store's own floor: netra_append (lock, heads, chain, insert) for a new case.
            rows = json.dumps([{**row, "event_id": str(uuid.uuid4())}])
            conn.execute(APPEND_SQL, (SERVICE_LOG_LOCK, f"floor-fn-{next(positions)}", 0, GENESIS_HASH, rows))
            conn.commit()

        parts = {
            "sealing (canonical JSON + SHA-256, Python)": per_op(seal_one),
            "a one-statement transaction, bare psycopg": per_op(psycopg_transaction),
            "the same through SQLAlchemy, no ping": per_op(transaction(bare)),
            "the same through Netra's engine (pings a connection idle ≥ 1 s)": per_op(transaction(netra)),
            "the same with SQLAlchemy's pre-ping on every checkout": per_op(transaction(pinged)),
            "one events row INSERT+COMMIT, bare psycopg (the table's floor)": per_op(events_row),
            "netra_append + COMMIT, bare psycopg (the function's floor)": per_op(function_call),
        }
    for name, micros in parts.items():
        print(f"           {micros:6.0f} µs  {name}")


_EVENTS_ROW = (
    "INSERT INTO events (position, event_id, stream_id, stream_version, event_type, occurred_at,"
    " recorded_at, envelope, hash, log_prev_hash, log_hash)"
    " VALUES (%s, %s, %s, 1, 'bench.floor', now(), now(), %s, %s, %s, %s)"
)


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


def latency(server: str, bootstrap: str, per_second: int, seconds: int) -> list[float]:
    """Milliseconds from an append's commit to the consuming service's inbox commit, with
    the relay and the consumer running as the separate processes they are in production."""
    prefix = f"lat{uuid.uuid4().hex[:6]}."
    urls = {
        service: database(server, f"{prefix[:-1]}_{service}", service)
        for service in ("intake", "adjudication")
    }
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": urls["intake"],
        "ADJUDICATION_DATABASE_URL": urls["adjudication"],
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NETRA_TOPIC_PREFIX": prefix,
        "NETRA_LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", *module.split()],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for module in ("services.intake relay", "services.adjudication consumer")
    ]
    try:
        engine = create_engine(urls["intake"])
        warm_up(engine, urls["adjudication"])
        committed = steady_appends(engine, per_second, seconds)
        return inbox_delays(urls["adjudication"], committed)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


def warm_up(engine: sa.Engine, consumer_url: str) -> None:
    """Append one event and wait until it is consumed: relay leader and group joined."""
    steady_appends(engine, 1, 1)
    consumer = create_engine(consumer_url)
    for _ in range(600):
        with consumer.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one():
                return
        time.sleep(0.1)
    raise RuntimeError("the consumer saw nothing within 60 s")


def steady_appends(engine: sa.Engine, per_second: int, seconds: int) -> dict[str, datetime]:
    """Append one event per new case at a steady rate; return each event's commit time."""
    committed: dict[str, datetime] = {}
    clock, interval = SystemClock(), 1.0 / per_second
    next_at = time.perf_counter()
    for _ in range(per_second * seconds):
        with SqlUnitOfWork(engine, clock) as uow:
            [sealed] = uow.events.append(
                f"e2e-{uuid.uuid4()}", [new_event()], expected_version=0, context=CONTEXT
            )
            uow.commit()
        committed[sealed.event_id] = datetime.now(UTC)
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return committed


def inbox_delays(consumer_url: str, committed: dict[str, datetime]) -> list[float]:
    """Wait for the consumer to catch up; return the delays in milliseconds."""
    consumer = create_engine(consumer_url)
    seen: dict[str, datetime] = {}
    for _ in range(300):
        with consumer.connect() as conn:
            seen = dict(conn.execute(sa.text("SELECT event_id, processed_at FROM inbox")).all())
        if all(event_id in seen for event_id in committed):
            break
        time.sleep(0.1)
    return [(seen[e] - t0).total_seconds() * 1000 for e, t0 in committed.items() if e in seen]


# --- running it -----------------------------------------------------------------------------


def line(name: str, figure: float, baseline: float, unit: str, target: float) -> None:
    """Print a figure beside its baseline and keep it for the run's results."""
    kept = RUN.figure(Figure(name, figure, unit, baseline, target))
    print(
        f"{name:<10} {figure:>9,.0f} {unit:<9} baseline {baseline:>9,.0f}  ratio {kept.ratio:6.1%}  "
        f"({'meets' if kept.meets else 'BELOW'} target {target:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000, help="events per append measurement")
    parser.add_argument("--relay-events", type=int, default=20000)
    parser.add_argument("--e2e-seconds", type=int, default=15)
    parser.add_argument("--intake-reports", type=int, default=2000, help="reports POSTed over HTTP")
    parser.add_argument("--only", choices=["core", "intake", "audit"], help="run only this part")
    parser.add_argument("--no-save", action="store_true", help="print only: keep no results, draw no report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netra-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg")
        server = pg.start()
        kafka_dir, port = Path(tmp) / "kafka", free_port()
        subprocess.run([str(KAFKA_SH), "start", str(kafka_dir), str(port), str(free_port())], check=True)
        bootstrap = f"127.0.0.1:{port}"
        try:
            if args.only == "core":
                run_core(server, bootstrap, args)
            elif args.only == "intake":
                run_intake_http(server, bootstrap, args.intake_reports)
            elif args.only == "audit":
                run_audit(server, bootstrap)
            else:
                run_all(server, bootstrap, args)
        finally:
            subprocess.run([str(KAFKA_SH), "stop", str(kafka_dir)], check=False)
            pg.stop()
    if not args.no_save:
        kept = RUN.save()
        write_report(load_runs())
        print(
            f"\nresults kept in {kept.relative_to(REPO_ROOT)}; report drawn in {REPORT.relative_to(REPO_ROOT)}"
        )


def database(server: str, name: str, service: str = "intake") -> str:
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    ensure_database(url)
    migrate(url, service)
    with sa.create_engine(url).begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS raw_rows (id bigserial PRIMARY KEY, tag text, n int, body text)"
            )
        )
    return url


def run_all(server: str, bootstrap: str, args: Any) -> None:
    run_core(server, bootstrap, args)
    run_intake_http(server, bootstrap, args.intake_reports)
    run_audit(server, bootstrap)


def run_core(server: str, bootstrap: str, args: Any) -> None:
    """Append (one and four writers), relay and append → consumed latency."""
    print(f"PostgreSQL {server}, Kafka {bootstrap}; {mp.cpu_count()} cores\n")
    url = database(server, "bench_store")
    rate(raw_commits, url, 300, 1), rate(store_appends, url, 300, 1)  # warm-up
    line(
        "append",
        rate(store_appends, url, args.events, 1),
        rate(raw_commits, url, args.events, 1),
        "ev/s",
        0.75,
    )
    print_append_breakdown(url)
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
    millis = latency(server, bootstrap, 200, args.e2e_seconds)
    cuts = statistics.quantiles(millis, n=100)
    RUN.latency_ms = {"p50": statistics.median(millis), "p90": cuts[89], "p99": cuts[98], "max": max(millis)}
    p99 = RUN.figure(Figure("latency p99", cuts[98], "ms", target=50, at_most=True))
    print(
        f"latency    append → inbox commit at 200 ev/s: p50 {RUN.latency_ms['p50']:.0f} ms, p99 {p99.value:.0f} ms "
        f"over {len(millis)} events ({'meets' if p99.meets else 'BELOW'} target p99 < 50 ms)"
    )
