"""/readyz names the background processes that are down (from their heartbeats); /metrics
shows the work not done yet: relay backlog, parked and held records, deadlines, consumer lag."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from shared.clock import ManualClock
from shared.heartbeat import STALE_AFTER_S, Heartbeat
from shared.schema import deadlines, deadlines_set_aside, events, heartbeats, outbox, quarantine
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.support.events import context, event
from tests.support.readiness import processes_when, ready_when


@pytest.fixture
def engine(app: Flask) -> sa.Engine:
    return runtime(app).engine


def test_readyz_names_each_process_never_seen_then_alive_then_stale(
    client: FlaskClient, engine: sa.Engine, clock: ManualClock
) -> None:
    never = {
        "relay": "down: never seen",
        "consumer": "down: never seen",
        "webhooks": "down: never seen",
        "retention": "down: never seen",
    }
    assert processes_when(client, lambda p: p == never) == never
    Heartbeat(engine, "relay", clock=clock).beat()
    Heartbeat(engine, "consumer", clock=clock).beat()
    clock.advance(timedelta(seconds=STALE_AFTER_S - 1))
    ready = ready_when(client, lambda r: r.get_json()["processes"]["relay"] == "ok")
    assert ready.status_code == 200  # a dead webhook worker is reported, not counted against the web
    assert ready.get_json()["processes"] == {
        "relay": "ok",
        "consumer": "ok",
        "webhooks": "down: never seen",
        "retention": "down: never seen",
    }

    clock.advance(timedelta(seconds=2))
    Heartbeat(engine, "consumer", clock=clock).beat()  # a restarted consumer: a new instance
    stale = f"down: last heartbeat {STALE_AFTER_S + 1:.0f} s ago"
    processes = processes_when(client, lambda p: p["relay"] == stale)
    assert (processes["relay"], processes["consumer"]) == (stale, "ok")


def test_a_heartbeat_thread_beats_until_stopped(engine: sa.Engine, clock: ManualClock) -> None:
    stop = threading.Event()
    thread = Heartbeat(engine, "scheduler", clock=clock).keep_beating(stop, interval_s=0.05)
    seen: set[datetime] = set()
    for _ in range(100):
        clock.advance(timedelta(seconds=1))
        with engine.connect() as conn:
            seen.update(
                conn.execute(
                    sa.select(heartbeats.c.beat_at).where(heartbeats.c.process == "scheduler")
                ).scalars()
            )
        if len(seen) >= 3:
            break
        threading.Event().wait(0.05)
    stop.set()
    thread.join(2)
    assert len(seen) >= 3 and not thread.is_alive()


def gauge(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition."""
    wanted = {"service": "intake", **labels}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match[1])) == wanted:
            return float(match[2])
    raise AssertionError(f"no sample {name}{wanted} in:\n{text}")


def test_metrics_show_the_work_not_done_and_the_processes_up(
    client: FlaskClient, engine: sa.Engine, clock: ManualClock
) -> None:
    appended = _append_two_events(engine, clock)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(sa.delete(outbox))
        conn.execute(sa.insert(outbox).values(relay="intake", published_position=appended - 1))
        conn.execute(
            sa.insert(quarantine).values(
                consumer="intake-inbox",
                stream_key="c",
                topic="t",
                partition=0,
                offset=1,
                reason="r",
                parked_at=now,
            )
        )
        due = uuid.uuid4()
        conn.execute(
            sa.insert(deadlines).values(
                deadline_id=due,
                stream_id="c",
                kind="k",
                due_on=date(2025, 1, 1),
                day_count="WORKING",
                started_by=uuid.uuid4(),
            )
        )
        conn.execute(
            sa.insert(deadlines_set_aside).values(
                deadline_id=due,
                attempts=1,
                reason="r",
                error_id="e",
                first_failed_at=now,
                last_failed_at=now,
                retry_after=now,
            )
        )
    Heartbeat(engine, "consumer", lambda: {"lag": {"netra.adjudication.case-events/3": 7}}, clock).beat()

    text = client.get("/metrics").get_data(as_text=True)
    assert gauge(text, "netra_relay_backlog_events") == 1
    assert gauge(text, "netra_inbox_parked_records") == 1
    assert gauge(text, "netra_inbox_held_records") == 0
    assert gauge(text, "netra_deadlines", status="PENDING") == 1
    assert gauge(text, "netra_deadlines_set_aside") == 1
    assert gauge(text, "netra_process_up", process="consumer") == 1
    assert gauge(text, "netra_process_up", process="relay") == 0
    assert (
        gauge(text, "netra_consumer_lag_records", topic="netra.adjudication.case-events", partition="3") == 7
    )

    clock.advance(timedelta(seconds=STALE_AFTER_S + 1))  # a dead consumer's last word is not the lag
    assert "netra_consumer_lag_records{" not in client.get("/metrics").get_data(as_text=True)


def test_metrics_still_answer_when_the_database_does_not(app: Flask, client: FlaskClient) -> None:
    from shared.db import create_engine

    rt = runtime(app)
    rt.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=1)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "netra_http_requests_total" in response.get_data(as_text=True)
    assert "netra_relay_backlog_events" not in response.get_data(as_text=True)


def _append_two_events(engine: sa.Engine, clock: ManualClock) -> int:
    """Two events in intake's log; the position of the last."""
    with SqlUnitOfWork(engine, clock) as uow:
        uow.events.append("case-1", [event(), event()], expected_version=0, context=context())
        uow.commit()
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(events.c.position))).scalar_one())
