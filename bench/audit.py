"""Audit benchmarks (``python -m bench --only audit``): ``netra audit verify`` and ``replay``
over 100,000 and then 200,000 intake events, each as a ratio of raw kafka-python consumption
of the same topic measured in the same run, with the peak RSS of each run.

Each measurement runs in its own process (``python -m bench.audit_child``), which reports
its own peak RSS (``ru_maxrss``), so the figures are not polluted by the generator.
The events are real intake events (a report received and its case registered, with the
contract example's report), appended through the store's own ``netra_append`` many per
round trip, projected into the live read models and published by the real relay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.results import RUN, Figure
from services.intake.domain.receiving import CASE_REGISTERED, REPORT_RECEIVED, report_record
from services.intake.domain.report import Channel
from services.intake.store.readmodel import READ_MODEL
from services.intake.web.examples import CONTRACT_EXAMPLE
from services.intake.web.schemas import report_schema
from shared.bus import make_producer
from shared.config import REPO_ROOT, Settings
from shared.db import create_engine, ensure_database, migrate
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal
from shared.eventstore import SERVICE_LOG_LOCK
from shared.outbox import OutboxRelay
from shared.processes import ensure_system_topics

# NETRA_BENCH_AUDIT_SIZES=20000 (comma-separated) for a quick run while iterating.
SIZES = tuple(int(n) for n in os.environ.get("NETRA_BENCH_AUDIT_SIZES", "100000,200000").split(","))
AT = datetime(2024, 10, 10, 2, 30, tzinfo=UTC)
APPEND = "SELECT netra_append(%s, %s, 0, %s, %s::jsonb)"


def run_audit(server: str, bootstrap: str, sizes: tuple[int, ...] = SIZES) -> None:
    """Generate, publish and measure at each size in turn (the log grows between sizes)."""
    settings = _settings(server, bootstrap)
    ensure_system_topics(settings)
    report = report_record(report_schema(AT + timedelta(days=400), Channel.BAWASLU).load(CONTRACT_EXAMPLE))
    made = 0
    from kafka.record import util  # which CRC-32C kafka-python checks records with

    crc = "C (crc32c package)" if util._crc32c is not util.crc32c_py else "pure Python"
    print(f"\nkafka-python checks record CRCs with the {crc} implementation")
    for size in sizes:
        started = time.perf_counter()
        new = _generate(settings, report, first_case=made // 2, cases=(size - made) // 2)
        _project_live(settings, new)
        _publish(settings)
        made = size
        print(f"\naudit over {size:,} intake events (prepared in {time.perf_counter() - started:.0f} s)")
        raw = _child(settings, "consume")
        verify = _child(settings, "verify")
        replay = _child(settings, "replay")
        _line("consume", raw, raw, size)
        _line("verify", verify, raw, size, 0.30)
        _line("replay", replay, raw, size, 0.30)
        seconds = replay["seconds"]
        print(
            f"           replay's time: projecting {seconds['project_calls']:.1f} s, reading and parsing "
            f"Kafka {seconds['read']:.1f} s, diffing {seconds['diff']:.1f} s, scratch set-up {seconds['setup']:.1f} s"
        )
        if not (verify["ok"] and replay["ok"]):
            print(
                f"           WARNING: verify ok={verify['ok']} replay ok={replay['ok']}: see {json.dumps(replay)[:400]}"
            )


def _line(
    name: str, figures: dict[str, Any], raw: dict[str, Any], size: int, target: float | None = None
) -> None:
    rate, baseline = figures["events"] / figures["elapsed"], raw["events"] / raw["elapsed"]
    RUN.audit.append(
        {"step": name, "size": size, "rate": rate, "ratio": rate / baseline, "rss_mb": figures["rss_mb"]}
    )
    verdict = ""
    if target is not None:
        kept = RUN.figure(Figure(f"{name} {size // 1000}k", rate, "ev/s", baseline, target))
        verdict = f"  ({'meets' if kept.meets else 'BELOW'} target {target:.0%})"
    print(
        f"{name:<10} {rate:>9,.0f} ev/s  ratio to raw consume {rate / baseline:6.1%}  "
        f"peak RSS {figures['rss_mb']:,.0f} MB{verdict}"
    )


def _settings(server: str, bootstrap: str) -> Settings:
    urls = {}
    for service in ("intake", "adjudication", "sanctions"):
        url = (
            sa.engine.make_url(server)
            .set(database=f"bench_audit_{service}")
            .render_as_string(hide_password=False)
        )
        ensure_database(url)
        migrate(url, service)
        urls[service] = url
    return Settings(
        home=REPO_ROOT / ".netra",
        database_urls=urls,
        kafka_bootstrap=bootstrap,
        topic_prefix=f"b{uuid.uuid4().hex[:6]}.",
    )


def _generate(settings: Settings, report: dict[str, Any], *, first_case: int, cases: int) -> list[Envelope]:
    """Append ``cases`` cases of two events each, 1,000 appends per round trip (pipelined)."""
    context = Context(Actor("Bawaslu", "partner"), correlation_id="bench")
    sealed: list[Envelope] = []
    url = settings.database_url("intake").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        for start in range(first_case, first_case + cases, 1000):
            batch = [_case(n, report, context) for n in range(start, min(start + 1000, first_case + cases))]
            with conn.cursor() as cursor:
                cursor.executemany(
                    APPEND,
                    [(SERVICE_LOG_LOCK, pair[0].stream_id, GENESIS_HASH, _rows(pair)) for pair in batch],
                )
            conn.commit()
            sealed += [e for pair in batch for e in pair]
    return sealed


def _case(n: int, report: dict[str, Any], context: Context) -> list[Envelope]:
    case_id, report_id = str(uuid.uuid4()), str(uuid.uuid4())
    at = AT + timedelta(seconds=n)
    subject = {**report["subject"], "nip": f"19850312{n:010d}"}
    received = NewEvent(
        REPORT_RECEIVED,
        {
            "report_id": report_id,
            "partner": "Bawaslu",
            "received_at": at.isoformat(),
            "report": {**report, "subject": subject},
        },
        occurred_at=at,
    )
    registered = NewEvent(
        CASE_REGISTERED,
        {
            "report_id": report_id,
            "case_number": f"NTR-2024-{n:07d}",
            "late": False,
            "assessment": {"status": "REGISTERED"},
        },
        occurred_at=at,
        rule_set="2024.1",
    )
    first = seal(
        received, stream_id=case_id, stream_version=1, prev_hash=GENESIS_HASH, context=context, recorded_at=at
    )
    second = seal(
        registered, stream_id=case_id, stream_version=2, prev_hash=first.hash, context=context, recorded_at=at
    )
    return [first, second]


def _rows(pair: list[Envelope]) -> str:
    return json.dumps(
        [
            {
                "event_id": e.event_id,
                "stream_version": e.stream_version,
                "event_type": e.event_type,
                "occurred_at": e.occurred_at,
                "recorded_at": e.recorded_at,
                "envelope": e.to_bytes().decode(),
                "hash": e.hash,
            }
            for e in pair
        ]
    )


def _project_live(settings: Settings, events: list[Envelope]) -> None:
    """The live read models, as the command side writes them: ``project`` on each event (not
    replay's batched ``project_many``, so that replay is compared with the other code path)."""
    engine = create_engine(settings.database_url("intake"))
    for start in range(0, len(events), 2000):
        with engine.begin() as conn:
            for envelope in events[start : start + 2000]:
                READ_MODEL.project(conn, envelope)
    engine.dispose()


def _publish(settings: Settings) -> None:
    engine = create_engine(settings.database_url("intake"))
    relay = OutboxRelay(
        engine,
        lambda: make_producer(settings.kafka_bootstrap, "bench-audit-relay"),
        topic=settings.topic("intake"),
        name="intake",
        batch_size=5000,
    )
    while relay.publish_pending().published:
        pass
    relay._drop_producer()
    engine.dispose()


def _child(settings: Settings, what: str) -> dict[str, Any]:
    env = {
        **os.environ,
        **{f"{name.upper()}_DATABASE_URL": url for name, url in settings.database_urls.items()},
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
        "NETRA_TOPIC_PREFIX": settings.topic_prefix,
        "NETRA_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.audit_child", what],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.audit_child {what} failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
