"""`python -m services.intake webhooks`: sends queued partner webhooks, at least once.

Each round claims due deliveries with ``FOR UPDATE SKIP LOCKED`` and leases them (moves
``next_attempt_at`` past the time the round can take) in one short transaction, so two
workers never send the same delivery at once and no database lock is held during HTTP.
A worker that dies mid-round leaves its rows leased; once the lease ends any worker sends
them again — which is why deliveries are at-least-once and carry ``event_id``.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from services.intake.store.webhooks import (
    DELIVERED,
    DELIVERY_HEADER,
    FAILED_RETRYING,
    SIGNATURE_HEADER,
    backoff,
    sign,
)
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db import create_engine, prepare_database
from shared.logs import configure_logging
from shared.processes import keep_beating, stop_on_signals

log = logging.getLogger(__name__)

# Enough of a partner's error to diagnose it, without letting a partner fill our table.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this worker, with where and how to send it."""

    id: int
    body: bytes
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    """What one POST achieved: a status code (if the partner answered) and an error text."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET; a redirect is a failed attempt instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_delivery(claimed: Claimed, *, timeout: float) -> Outcome:
    """POST one delivery, signed; never raises for the partner's failures, only reports them."""
    request = urllib.request.Request(
        claimed.url,
        data=claimed.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(claimed.secret, claimed.body),
            DELIVERY_HEADER: str(claimed.id),
            "User-Agent": "Netra-Webhooks/1",
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Outcome(response.status, None)
    except urllib.error.HTTPError as exc:
        return Outcome(exc.code, f"HTTP {exc.code} {exc.reason}"[:MAX_ERROR_CHARS])
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # Refused, timed out, unresolvable, TLS failure, or a URL urllib cannot use.
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Outcome(None, f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS])


class WebhookWorker:
    """Sends due deliveries from ``webhook_deliveries``; the clock decides what is due."""

    def __init__(
        self, engine: sa.Engine, clock: Clock, *, batch_size: int = 20, timeout: float = 10.0
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.batch_size = batch_size
        self.timeout = timeout
        # Sends are sequential, so a round can take batch_size timeouts; the lease outlasts it.
        self.lease = timedelta(seconds=timeout * batch_size + 60)

    def claim(self) -> list[Claimed]:
        """Lease up to ``batch_size`` due deliveries to this worker and return them."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.text(
                    "UPDATE webhook_deliveries d SET next_attempt_at = :lease_until FROM webhooks w "
                    "WHERE w.partner = d.partner AND d.id IN ("
                    "  SELECT d2.id FROM webhook_deliveries d2 JOIN webhooks w2 ON w2.partner = d2.partner"
                    "  WHERE d2.status IN ('PENDING', 'FAILED_RETRYING') AND d2.next_attempt_at <= :now"
                    "  ORDER BY d2.next_attempt_at, d2.id LIMIT :n FOR UPDATE OF d2 SKIP LOCKED) "
                    "RETURNING d.id, d.body, d.attempts, w.url, w.secret"
                ),
                {"now": now, "lease_until": now + self.lease, "n": self.batch_size},
            ).all()
        claimed = [Claimed(r.id, r.body.encode(), r.attempts, r.url, r.secret) for r in rows]
        return sorted(claimed, key=lambda c: c.id)

    def record(self, claimed: Claimed, outcome: Outcome) -> None:
        """Store an attempt's outcome: DELIVERED, or FAILED_RETRYING with the next try scheduled."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            if outcome.delivered:
                conn.execute(
                    sa.text(
                        "UPDATE webhook_deliveries SET status = :s, attempts = attempts + 1, "
                        "last_status_code = :code, last_error = NULL, delivered_at = :now WHERE id = :id"
                    ),
                    {"s": DELIVERED, "code": outcome.status_code, "now": now, "id": claimed.id},
                )
                return
            conn.execute(
                sa.text(
                    "UPDATE webhook_deliveries SET status = :s, attempts = attempts + 1, "
                    "next_attempt_at = :next, last_status_code = :code, last_error = :error "
                    # A late failure must not undo a success another worker recorded after a lease ran out.
                    "WHERE id = :id AND status <> 'DELIVERED'"
                ),
                {
                    "s": FAILED_RETRYING,
                    "next": now + backoff(claimed.attempts + 1),
                    "code": outcome.status_code,
                    "error": outcome.error,
                    "id": claimed.id,
                },
            )

    def run_once(self) -> int:
        """One round: claim, send and record each due delivery; return how many were attempted."""
        claimed = self.claim()
        for delivery in claimed:
            outcome = post_delivery(delivery, timeout=self.timeout)
            self.record(delivery, outcome)
            if not outcome.delivered:
                log.info("webhook delivery %s failed: %s", delivery.id, outcome.error)
        return len(claimed)

    def run(self, stop: threading.Event, idle: float = 1.0) -> None:
        """Run rounds until ``stop`` is set, waiting ``idle`` seconds when nothing was due."""
        while not stop.is_set():
            try:
                attempted = self.run_once()
            except sa.exc.OperationalError:
                # The database is away (restart, failover): the queue is in it, so just wait.
                log.exception("webhook worker cannot reach the database; retrying")
                attempted = 0
            if not attempted:
                stop.wait(idle)


def run_webhook_worker(settings: Settings) -> None:
    """Run the intake webhook worker until SIGTERM or SIGINT."""
    configure_logging(settings)
    stop = stop_on_signals()
    engine = create_engine(prepare_database(settings, "intake"), pool_size=2, pre_ping=False)
    keep_beating(settings, "intake", "webhooks", stop)
    WebhookWorker(engine, SystemClock()).run(stop)
