"""Webhook queueing and delivery against a real PostgreSQL and a real HTTP partner endpoint.

The partner is an http.server on 127.0.0.1 in a thread, named partner.test in the worker's
DNS and allow-listed as an administrator would (tests/support/partner_server.py); the
worker's clock is a ManualClock, so backoff is tested by moving time, not by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from services.intake.store.webhooks import (
    MAX_BACKOFF,
    NOT_PUBLIC,
    NUMERIC_HOST,
    DestinationPolicy,
    RefusedDestination,
    backoff,
    enqueue_stage_change,
    register_webhook,
    render_body,
    seal_secret,
    sign,
    system_resolver,
    verify,
)
from services.intake.webhook_worker import (
    NOT_SENT,
    SECRET_ERASED,
    SECRET_UNAVAILABLE,
    Claimed,
    WebhookWorker,
)
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine, ensure_database, migrations_dir
from shared.keyring import Erased, KeyEncryptionKeys, KeyStore, is_sealed, kek_source
from shared.pg_embedded import free_port
from tests.conftest import NewDatabase
from tests.support.partner_server import HOST, Dns, self_signed_certificate

SECRET = "s3cret-of-at-least-16"
AT = datetime(2024, 10, 10, 2, 30, tzinfo=UTC)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str = "/hook"


@dataclass
class PartnerEndpoint:
    """A real HTTP server that records each POST and answers the next queued status (else 200)."""

    port: int
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    # Sent as Location with a 3xx status.
    location: str | None = None
    # Serve https with this (server) context; the SNI names asked for are kept.
    tls: ssl.SSLContext | None = None
    server_names: list[str | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}/hook"

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.received.append(Received(dict(self.headers.items()), body, self.path))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                if endpoint.location and 300 <= status < 400:
                    self.send_header("Location", endpoint.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self.tls.sni_callback = lambda sock, name, ctx: endpoint.server_names.append(name)
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
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


@pytest.fixture
def dns() -> Dns:
    """The worker's DNS: the partner endpoint's host (allow-listed) is 127.0.0.1."""
    return Dns()


@pytest.fixture
def keys(new_database: NewDatabase, tmp_path: Path, clock: ManualClock) -> Iterator[KeyStore]:
    """A key store on a fresh keyring database, its KEK in a file under ``tmp_path``."""
    settings = Settings(home=tmp_path, database_urls={"keyring": new_database("keyring")})
    store = KeyStore(
        create_engine(settings.database_url("keyring"), pool_size=1), kek_source(settings), clock
    )
    yield store
    store.engine.dispose()


def webhook_worker(
    engine: sa.Engine, clock: ManualClock, dns: Dns, keys: KeyStore, **kwargs: Any
) -> WebhookWorker:
    """The worker as build_webhook_worker builds it, with HOST allow-listed and ``dns``."""
    settings = Settings(home=Path("."), webhook_http_hosts=(HOST,))
    policy = DestinationPolicy.of(settings.webhook_http_hosts, dns)
    return WebhookWorker(engine, clock, keys=keys, policy=policy, **kwargs)


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


def register(engine: sa.Engine, keys: KeyStore, partner: str, url: str, secret: str = SECRET) -> None:
    """What PUT /v1/webhook does once the URL passed: seal the secret, store the row."""
    sealed = seal_secret(keys, partner, secret)
    with engine.begin() as conn:
        register_webhook(conn, partner=partner, url=url, sealed_secret=sealed, now=AT)


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
    engine: sa.Engine, endpoint: PartnerEndpoint, keys: KeyStore
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
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
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
    report_id = add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)

    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1

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
    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 0  # nothing sent twice


def test_a_failing_endpoint_is_retried_with_growing_backoff_until_it_answers(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    endpoint.statuses = [500, 503, 500]
    worker = webhook_worker(engine, worker_clock, dns, keys)

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
    engine: sa.Engine, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    down = PartnerEndpoint(free_port())  # nothing listens on its port yet
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", down.url)
    add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)

    first = webhook_worker(engine, worker_clock, dns, keys)
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
        assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 2
    finally:
        down.stop()
    assert {r.status for r in deliveries(engine)} == {"DELIVERED"}
    assert len(down.received) == 2


def test_a_worker_that_dies_after_claiming_leaves_the_delivery_to_another_after_the_lease(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    dead = webhook_worker(engine, worker_clock, dns, keys)
    assert len(dead.claim()) == 1  # ... and then the process is killed

    successor = webhook_worker(engine, worker_clock, dns, keys)
    assert successor.run_once() == 0  # still leased: nobody sends it twice at once
    worker_clock.advance(dead.lease)
    assert successor.run_once() == 1
    assert deliveries(engine)[0].status == "DELIVERED"


def test_a_delivery_locked_by_another_worker_is_skipped_not_waited_for(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
    add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    locked_id = deliveries(engine)[0].id

    with engine.connect() as other, other.begin():
        # Another worker mid-claim holds this row's lock.
        other.execute(
            sa.text("SELECT 1 FROM webhook_deliveries WHERE id = :id FOR UPDATE"), {"id": locked_id}
        )
        claimed = webhook_worker(engine, worker_clock, dns, keys).claim()
    assert [c.id for c in claimed] == [deliveries(engine)[1].id]


# --- where a delivery may go ---------------------------------------------------------------


def queued_delivery(engine: sa.Engine, keys: KeyStore, url: str) -> None:
    """One delivery queued for ``url``, as if it had passed registration."""
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", url)
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)


@pytest.mark.parametrize(
    "answer",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "0.0.0.0",
        "10.0.0.7",
        "172.16.5.4",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
        "fe80::1",
        "224.0.0.251",
        "2002:a00:1::1",
    ],
)
def test_a_host_whose_dns_answer_turned_internal_since_registration_is_sent_nothing(
    engine: sa.Engine,
    endpoint: PartnerEndpoint,
    worker_clock: ManualClock,
    dns: Dns,
    answer: str,
    keys: KeyStore,
) -> None:
    """Registration saw a public address; at delivery the same DNS says ``answer``. Nothing
    is sent (the endpoint on 127.0.0.1 would answer 200), and the partner reads only the rule."""
    dns.answers["partner.example"] = ["93.184.215.14"]
    url = f"https://partner.example:{endpoint.port}/hook"
    DestinationPolicy.of([HOST], dns).check(url)  # what PUT /v1/webhook checked
    queued_delivery(engine, keys, url)
    dns.answers["partner.example"] = [answer]

    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1

    assert endpoint.received == []
    [row] = deliveries(engine)
    assert (row.status, row.attempts, row.last_status_code) == ("FAILED_RETRYING", 1, None)
    assert row.last_error == f"{NOT_SENT}: {NOT_PUBLIC}"
    assert answer not in row.last_error
    assert row.next_attempt_at == worker_clock.now() + backoff(1)  # retried like any failure


def test_a_url_refused_by_the_rules_of_today_is_refused_at_delivery_too(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    """A row written before these checks (or an allow-list entry since removed) is checked
    again before every attempt: nothing reaches the endpoint."""
    for url in (
        f"http://127.0.0.1:{endpoint.port}/hook",
        f"http://2130706433:{endpoint.port}/hook",
        f"http://user:pw@{HOST}:{endpoint.port}/hook",
    ):
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM webhook_deliveries"))
        queued_delivery(engine, keys, url)
        assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1
        [row] = deliveries(engine)
        assert row.status == "FAILED_RETRYING" and row.last_error.startswith(NOT_SENT), url
    assert endpoint.received == []


def test_the_worker_connects_to_the_address_it_checked_and_names_the_host(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    """One lookup per attempt, and the connection goes to its answer: the system's DNS does
    not know partner.test, so a delivery that arrives went where the check looked."""
    queued_delivery(engine, keys, endpoint.url)
    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1
    [got] = endpoint.received
    assert got.headers["Host"] == f"{HOST}:{endpoint.port}"
    assert dns.asked == [HOST]
    assert deliveries(engine)[0].status == "DELIVERED"


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    endpoint.statuses = [302, 307]
    endpoint.location = f"http://{HOST}:{endpoint.port}/elsewhere"
    queued_delivery(engine, keys, endpoint.url)
    worker = webhook_worker(engine, worker_clock, dns, keys)

    for attempt, status in enumerate((302, 307), start=1):
        assert worker.run_once() == 1
        [row] = deliveries(engine)
        assert (row.status, row.attempts, row.last_status_code) == ("FAILED_RETRYING", attempt, status)
        assert "redirects are not followed" in row.last_error
        worker_clock.advance(backoff(attempt))
    assert [r.path for r in endpoint.received] == ["/hook", "/hook"]  # never /elsewhere


@pytest.mark.parametrize(("certified", "delivered"), [(HOST, True), ("other.test", False)])
def test_https_goes_to_the_checked_address_with_the_urls_host_as_server_name_and_checked_certificate(
    engine: sa.Engine,
    worker_clock: ManualClock,
    dns: Dns,
    tmp_path: Path,
    certified: str,
    delivered: bool,
    keys: KeyStore,
) -> None:
    cert, key = self_signed_certificate(tmp_path, certified)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    endpoint = PartnerEndpoint(free_port(), tls=served)
    endpoint.start()
    try:
        queued_delivery(engine, keys, endpoint.url)
        trusted = ssl.create_default_context(cafile=str(cert))
        assert webhook_worker(engine, worker_clock, dns, keys, tls=trusted).run_once() == 1
    finally:
        endpoint.stop()
    assert endpoint.server_names == [HOST]
    [row] = deliveries(engine)
    if delivered:
        assert row.status == "DELIVERED"
        assert endpoint.received[0].headers["Host"] == f"{HOST}:{endpoint.port}"
    else:
        # A certificate for another name: the check is against the URL's host, not the address.
        assert row.status == "FAILED_RETRYING" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
        assert endpoint.received == []


def test_the_secret_is_never_logged_nor_in_a_claimed_deliverys_repr(
    engine: sa.Engine,
    endpoint: PartnerEndpoint,
    worker_clock: ManualClock,
    dns: Dns,
    caplog: pytest.LogCaptureFixture,
    keys: KeyStore,
) -> None:
    queued_delivery(engine, keys, endpoint.url)
    endpoint.statuses = [500]
    worker = webhook_worker(engine, worker_clock, dns, keys)
    with caplog.at_level(logging.DEBUG):
        [claimed] = worker.claim()
        assert SECRET not in repr(claimed)
        worker_clock.advance(worker.lease)
        worker.run_once()  # fails with a 500: logged
        dns.answers[HOST] = ["169.254.169.254"]
        worker_clock.advance(MAX_BACKOFF)
        worker.run_once()  # refused: logged
    assert len(caplog.records) >= 2
    assert all(SECRET not in str(r.__dict__) for r in caplog.records)
    assert isinstance(claimed, Claimed)


def test_the_allow_list_setting_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"NETRA_WEBHOOK_HTTP_HOSTS": " hooks.intranet.example , PARTNER.test,,"})
    assert settings.webhook_http_hosts == ("hooks.intranet.example", "PARTNER.test")
    policy = DestinationPolicy.of(settings.webhook_http_hosts, Dns({"partner.test": ["10.0.0.5"]}))
    assert policy.check("http://partner.test:8080/h").addresses == ("10.0.0.5",)
    with pytest.raises(RefusedDestination):
        policy.check("http://elsewhere.example/h")
    assert Settings.from_env({}).webhook_http_hosts == ()


def test_the_system_resolver_is_the_default_and_localhost_is_refused_through_it() -> None:
    assert DestinationPolicy().resolver is system_resolver
    with pytest.raises(RefusedDestination) as refused:
        DestinationPolicy().check("https://localhost/hook")
    assert str(refused.value) == NOT_PUBLIC
    with pytest.raises(RefusedDestination) as numeric:
        DestinationPolicy().check("https://017700000001/hook")
    assert str(numeric.value) == NUMERIC_HOST


# --- the secret, sealed -------------------------------------------------------------------


def stored_secret(engine: sa.Engine, partner: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT secret FROM webhooks WHERE partner = :p"), {"p": partner}
        ).scalar_one()


def test_the_secret_is_stored_sealed_and_opened_once_per_batch_per_partner(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    secrets = {"bawaslu-a": SECRET, "bawaslu-b": "another-secret-of-16+"}
    case_id = uuid.uuid4()
    for partner, secret in secrets.items():
        register(engine, keys, partner, endpoint.url, secret)
    for partner in ("bawaslu-a", "bawaslu-a", "bawaslu-a", "bawaslu-b"):
        add_report(engine, partner, case_id)
    assert enqueue(engine, case_id) == 4

    for partner, secret in secrets.items():
        stored = stored_secret(engine, partner)
        assert is_sealed(stored) and stored["subject"] == f"webhook/{partner}"
        assert secret not in json.dumps(stored)
        assert keys.info(f"webhook/{partner}").owner == "intake"  # type: ignore[union-attr]

    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 4

    assert len(endpoint.received) == 4
    by_partner = {str(r.report_id): r.partner for r in deliveries(engine)}
    for got in endpoint.received:
        secret = secrets[by_partner[json.loads(got.body)["report_id"]]]
        assert verify(secret, got.body, got.headers["X-Netra-Signature"])
    assert {r.status for r in deliveries(engine)} == {"DELIVERED"}
    # One opening per partner for the whole batch, recorded; the first registration made the
    # key and used none.
    for partner in secrets:
        assert [(p, a) for p, a, _ in keys.uses(f"webhook/{partner}")] == [
            ("webhook-sign", "intake-webhooks")
        ]

    # Never kept across rounds: the next round asks the key store again.
    enqueue(engine, case_id, event_id="evt-2", stage="DECIDED")
    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 4
    assert len(keys.uses("webhook/bawaslu-a")) == 2


def test_a_registration_again_reuses_the_partners_key_and_a_clear_secret_is_refused(
    engine: sa.Engine, endpoint: PartnerEndpoint, worker_clock: ManualClock, dns: Dns, keys: KeyStore
) -> None:
    register(engine, keys, "bawaslu-a", endpoint.url)
    register(engine, keys, "bawaslu-a", endpoint.url, "the-replacing-secret")
    assert [(p, a) for p, a, _ in keys.uses("webhook/bawaslu-a")] == [("webhook-register", "bawaslu-a")]
    case_id = uuid.uuid4()
    add_report(engine, "bawaslu-a", case_id)
    enqueue(engine, case_id)
    assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1
    [got] = endpoint.received
    assert verify("the-replacing-secret", got.body, got.headers["X-Netra-Signature"])

    with engine.begin() as conn:
        for refused in (SECRET, {"secret": SECRET}, seal_secret(keys, "bawaslu-b", SECRET)):
            with pytest.raises(ValueError):
                register_webhook(
                    conn,
                    partner="bawaslu-a",
                    url=endpoint.url,
                    sealed_secret=refused,  # type: ignore[arg-type]
                    now=AT,
                )


def test_an_erased_key_fails_that_partners_deliveries_with_a_reason_and_no_others(
    engine: sa.Engine,
    endpoint: PartnerEndpoint,
    worker_clock: ManualClock,
    dns: Dns,
    keys: KeyStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case_id = uuid.uuid4()
    register(engine, keys, "bawaslu-a", endpoint.url)
    register(engine, keys, "bawaslu-b", endpoint.url)
    erased_report = add_report(engine, "bawaslu-a", case_id)
    add_report(engine, "bawaslu-b", case_id)
    enqueue(engine, case_id)
    keys.erase("webhook/bawaslu-a", actor="dpo", reason="partner offboarded")
    worker = webhook_worker(engine, worker_clock, dns, keys)

    with caplog.at_level(logging.INFO):
        for attempt in (1, 2):  # failed and retried with backoff, not a crash
            assert worker.run_once() == (2 if attempt == 1 else 1)
            [row] = [r for r in deliveries(engine) if r.report_id == erased_report]
            assert (row.status, row.attempts, row.last_status_code) == ("FAILED_RETRYING", attempt, None)
            assert row.last_error == f"{NOT_SENT}: {SECRET_ERASED}"
            assert row.next_attempt_at == worker_clock.now() + backoff(attempt)
            worker_clock.advance(backoff(attempt))
    # Nothing was sent for the erased partner; the other's delivery went out, signed.
    [got] = endpoint.received
    assert json.loads(got.body)["report_id"] != str(erased_report)
    assert verify(SECRET, got.body, got.headers["X-Netra-Signature"])
    assert keys.uses("webhook/bawaslu-a") == []
    assert any("webhook/bawaslu-a" in r.getMessage() and "erased" in r.getMessage() for r in caplog.records)
    # Its key can never be issued again, so registering again is refused too.
    with pytest.raises(Erased):
        seal_secret(keys, "bawaslu-a", SECRET)


@pytest.mark.parametrize("breakage", ["other KEK", "another partner's seal", "no key"])
def test_a_secret_that_does_not_open_is_a_failed_attempt_naming_no_detail(
    engine: sa.Engine,
    endpoint: PartnerEndpoint,
    worker_clock: ManualClock,
    dns: Dns,
    keys: KeyStore,
    clock: ManualClock,
    breakage: str,
) -> None:
    queued_delivery(engine, keys, endpoint.url)
    opening = keys
    if breakage == "other KEK":
        wrong = KeyEncryptionKeys({"kek-wrong": os.urandom(32)}, "kek-wrong")
        opening = KeyStore(keys.engine, lambda: wrong, clock)
    elif breakage == "another partner's seal":
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE webhooks SET secret = CAST(:s AS jsonb)"),
                {"s": json.dumps(seal_secret(keys, "bawaslu-b", "b-secret-of-16-chars"))},
            )
    else:
        with keys.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM data_keys"))

    assert webhook_worker(engine, worker_clock, dns, opening).run_once() == 1

    assert endpoint.received == []
    [row] = deliveries(engine)
    assert (row.status, row.attempts, row.last_error) == (
        "FAILED_RETRYING",
        1,
        f"{NOT_SENT}: {SECRET_UNAVAILABLE}",
    )


def test_a_plain_secret_from_before_sealing_still_signs_and_is_sealed_at_the_next_registration(
    pg_server: str,
    endpoint: PartnerEndpoint,
    worker_clock: ManualClock,
    dns: Dns,
    keys: KeyStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Migration 0007 cannot reach the key store: it keeps a plain secret as a JSON string,
    which the worker signs with until the partner registers again."""
    url = make_url(pg_server).set(database=f"t_legacy_{uuid.uuid4().hex[:10]}")
    rendered = url.render_as_string(hide_password=False)
    ensure_database(rendered)
    config = Config()
    config.set_main_option("script_location", str(migrations_dir("intake")))
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0006")
    engine = create_engine(rendered)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO webhooks (partner, url, secret, updated_at) VALUES ('bawaslu-a', :u, :s, :at)"
                ),
                {"u": endpoint.url, "s": SECRET, "at": AT},
            )
        command.upgrade(config, "head")
        assert stored_secret(engine, "bawaslu-a") == SECRET

        case_id = uuid.uuid4()
        add_report(engine, "bawaslu-a", case_id)
        enqueue(engine, case_id)
        with caplog.at_level(logging.INFO):
            assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1
        [got] = endpoint.received
        assert verify(SECRET, got.body, got.headers["X-Netra-Signature"])
        assert keys.uses("webhook/bawaslu-a") == []
        assert any("plain text" in r.getMessage() for r in caplog.records)
        assert all(SECRET not in str(r.__dict__) for r in caplog.records)

        register(engine, keys, "bawaslu-a", endpoint.url, "sealed-from-now-on")
        assert is_sealed(stored_secret(engine, "bawaslu-a"))
        enqueue(engine, case_id, event_id="evt-2", stage="DECIDED")
        assert webhook_worker(engine, worker_clock, dns, keys).run_once() == 1
        assert verify(
            "sealed-from-now-on", endpoint.received[1].body, endpoint.received[1].headers["X-Netra-Signature"]
        )

        # Going back would make the old code sign with the sealed JSON: refused.
        with pytest.raises(RuntimeError, match="sealed"):
            command.downgrade(config, "0006")
    finally:
        engine.dispose()
