"""Webhook queueing and delivery against a real PostgreSQL and a real HTTP partner endpoint.

The partner is an http.server on 127.0.0.1 in a thread; the worker's clock is a ManualClock,
so backoff is tested by moving time, not by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from services.intake.store.webhooks import (
    MAX_BACKOFF,
    backoff,
    enqueue_stage_change,
    register_webhook,
    render_body,
    sign,
    verify,
)
from services.intake.webhook_worker import WebhookWorker
from shared.clock import ManualClock
from shared.pg_embedded import free_port

SECRET = "s3cret-of-at-least-16"
AT = datetime(2024, 10, 10, 2, 30, tzinfo=UTC)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class PartnerEndpoint:
    """A real HTTP server that records each POST and answers the next queued status (else 200)."""

    port: int
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.received.append(Received(dict(self.headers.items()), body))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def endpoint() -> Iterator[PartnerEndpoint]:
    found = PartnerEndpoint(free_port())
    found.start()
    yield found
    found.stop()


@pytest.fixture
def worker_clock() -> ManualClock:
    return ManualClock(AT)


def add_report(engine: sa.Engine, partner: str, case_id: uuid.UUID) -> uuid.UUID:
    """A row of intake's report read model, as the report flow would have written it."""
    report_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO intake_reports (report_id, partner, case_id, status, late, received_at) "
                "VALUES (:r, :p, :c, 'REGISTERED', false, :at)"
            ),
            {"r": report_id, "p": partner, "c": case_id, "at": AT},
        )
    return report_id


def register(engine: sa.Engine, partner: str, url: str) -> None:
    with engine.begin() as conn:
        register_webhook(conn, partner=partner, url=url, secret=SECRET, now=AT)


def enqueue(
    engine: sa.Engine, case_id: uuid.UUID, event_id: str = "evt-1", stage: str = "UNDER_EXAMINATION"
) -> int:
    with engine.begin() as conn:
        return enqueue_stage_change(conn, case_id=str(case_id), stage=stage, at=AT, event_id=event_id)


def deliveries(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT * FROM webhook_deliveries ORDER BY id")).all())


def test_backoff_doubles_from_five_seconds_to_a_ten_minute_cap() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert backoff(8) == MAX_BACKOFF == backoff(10_000)
    # Never giving up, an endpoint down for 72 hours is still being tried at the cap.
    assert sum((backoff(n) for n in range(1, 440)), timedelta()) > timedelta(hours=72)


def test_the_body_is_compact_in_the_contracts_key_order_and_signed_with_hmac_sha256() -> None:
    body = render_body(report_id="r", case_id="c", stage="DECIDED", at=AT, event_id="e")
    assert (
        body
        == b'{"report_id":"r","case_id":"c","stage":"DECIDED","at":"2024-10-10T02:30:00+00:00","event_id":"e"}'
    )
    signature = sign(SECRET, body)
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert verify(SECRET, body, signature)
    assert not verify(SECRET, body + b" ", signature)


def test_one_delivery_per_report_whose_partner_has_a_webhook_and_none_twice(
    engine: sa.Engine, endpoint: PartnerEndpoint
) -> None:
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", endpoint.url)
    first = add_report(engine, "bawaslu-a", case_id)
    second = add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bkn-without-webhook", case_id)
    add_report(engine, "bawaslu-a", uuid.uuid4())  # another case

    assert enqueue(engine, case_id) == 2
    assert enqueue(engine, case_id) == 0  # the same event processed again
    assert enqueue(engine, case_id, event_id="evt-2", stage="DECIDED") == 2

    rows = deliveries(engine)
    assert sorted((r.event_id, str(r.report_id), r.status) for r in rows) == sorted(
        (event, str(report), "PENDING") for event in ("evt-1", "evt-2") for report in (first, second)
    )
    assert {r.partner for r in rows} == {"bawaslu-a"}


def test_the_worker_posts_the_signed_body_and_marks_it_delivered(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock
) -> None:
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", endpoint.url)
    report_id = add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)

    assert WebhookWorker(engine, worker_clock).run_once() == 1

    [got] = endpoint.received
    assert json.loads(got.body) == {
        "report_id": str(report_id),
        "case_id": str(case_id),
        "stage": "UNDER_EXAMINATION",
        "at": "2024-10-10T02:30:00+00:00",
        "event_id": "evt-1",
    }
    assert got.headers["Content-Type"] == "application/json"
    assert verify(SECRET, got.body, got.headers["X-Netra-Signature"])
    [row] = deliveries(engine)
    assert got.headers["X-Netra-Delivery"] == str(row.id)
    assert (row.status, row.attempts, row.last_status_code, row.delivered_at) == ("DELIVERED", 1, 200, AT)
    assert WebhookWorker(engine, worker_clock).run_once() == 0  # nothing sent twice


def test_a_failing_endpoint_is_retried_with_growing_backoff_until_it_answers(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock
) -> None:
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    endpoint.statuses = [500, 503, 500]
    worker = WebhookWorker(engine, worker_clock)

    waits = []
    for attempt in range(1, 4):
        assert worker.run_once() == 1
        [row] = deliveries(engine)
        expected_code = (500, 503, 500)[attempt - 1]
        assert (row.status, row.attempts, row.last_status_code) == ("FAILED_RETRYING", attempt, expected_code)
        waits.append(row.next_attempt_at - worker_clock.now())
        worker_clock.advance(waits[-1] - timedelta(seconds=1))
        assert worker.run_once() == 0  # not due yet
        worker_clock.advance(timedelta(seconds=1))
    assert waits == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert [r.last_status_code for r in deliveries(engine)] == [500]
    assert "500" in deliveries(engine)[0].last_error

    assert worker.run_once() == 1
    [row] = deliveries(engine)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("DELIVERED", 4, 200, None)
    assert len(endpoint.received) == 4
    assert len({r.body for r in endpoint.received}) == 1  # every retry is byte-identical


def test_an_endpoint_down_for_an_hour_loses_nothing_and_a_new_worker_delivers_later(
    engine: sa.Engine, worker_clock: ManualClock
) -> None:
    down = PartnerEndpoint(free_port())  # nothing listens on its port yet
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", down.url)
    add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)

    first = WebhookWorker(engine, worker_clock)
    start = worker_clock.now()
    while worker_clock.now() - start < timedelta(hours=1):
        first.run_once()
        worker_clock.advance(timedelta(seconds=30))
    rows = deliveries(engine)
    assert {r.status for r in rows} == {"FAILED_RETRYING"}
    assert all(r.last_status_code is None and "Connection" in r.last_error for r in rows)
    assert all(r.attempts >= 10 for r in rows)
    assert max(r.next_attempt_at for r in rows) - worker_clock.now() <= MAX_BACKOFF

    # The endpoint comes back; a worker started afresh finds the queue in the table.
    down.start()
    try:
        worker_clock.advance(MAX_BACKOFF)
        assert WebhookWorker(engine, worker_clock).run_once() == 2
    finally:
        down.stop()
    assert {r.status for r in deliveries(engine)} == {"DELIVERED"}
    assert len(down.received) == 2


def test_a_worker_that_dies_after_claiming_leaves_the_delivery_to_another_after_the_lease(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock
) -> None:
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    dead = WebhookWorker(engine, worker_clock)
    assert len(dead.claim()) == 1  # ... and then the process is killed

    successor = WebhookWorker(engine, worker_clock)
    assert successor.run_once() == 0  # still leased: nobody sends it twice at once
    worker_clock.advance(dead.lease)
    assert successor.run_once() == 1
    assert deliveries(engine)[0].status == "DELIVERED"


def test_a_delivery_locked_by_another_worker_is_skipped_not_waited_for(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock
) -> None:
    case_id = uuid.uuid4()
    register(engine, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    locked_id = deliveries(engine)[0].id

    with engine.connect() as other, other.begin():
        # Another worker mid-claim holds this row's lock.
        other.execute(
            sa.text("SELECT 1 FROM webhook_deliveries WHERE id = :id FOR UPDATE"), {"id": locked_id}
        )
        claimed = WebhookWorker(engine, worker_clock).claim()
    assert [c.id for c in claimed] == [deliveries(engine)[1].id]
