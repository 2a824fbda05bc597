"""`python -m services.intake webhooks`: sends queued partner webhooks, at least once.

Each round claims due deliveries with ``FOR UPDATE SKIP LOCKED`` and leases them (moves
``next_attempt_at`` past the time the round can take) in one short transaction, so two
workers never send the same delivery at once and no database lock is held during HTTP.
A worker that dies mid-round leaves its rows leased; once the lease ends any worker sends
them again — which is why deliveries are at-least-once and carry ``event_id``.

Before each POST the URL is checked again (``DestinationPolicy``: the host's addresses now,
not at registration), and the connection goes to an address that check allowed, with the
URL's host in the Host header, as the TLS server name and in the certificate check: a name
cannot resolve to a public address for the check and to an internal one for the connection
(DNS rebinding). No proxy is used and no redirect followed; a refused destination is a
failed attempt that sends nothing.

The partner's secret is opened from the key store once per claimed batch per partner (one
``key_uses`` row each, actor ``intake-webhooks``), never kept across rounds: an erasure of
``webhook/<partner>`` stops the next round. A secret that cannot be opened (erased, or a
key store problem) is a failed attempt that sends nothing, retried with backoff like any.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from services.intake.store.webhooks import (
    DELIVERED,
    DELIVERY_HEADER,
    FAILED_RETRYING,
    SIGNATURE_HEADER,
    Destination,
    DestinationPolicy,
    RefusedDestination,
    Resolver,
    backoff,
    is_legacy_secret,
    open_secret,
    secret_subject,
    sign,
    system_resolver,
)
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db import create_engine, prepare_database
from shared.keyring import Erased, KeyringError, KeyStore, kek_source
from shared.logs import configure_logging
from shared.processes import keep_beating, stop_on_signals

log = logging.getLogger(__name__)

# Enough of a partner's error to diagnose it, without letting a partner fill our table.
MAX_ERROR_CHARS = 500

# Who opens the partners' secrets, as key_uses records it.
ACTOR = "intake-webhooks"

# Why a delivery was not signed (after NOT_SENT), as the partner reads it in last_error.
SECRET_ERASED = (
    "kunci rahasia webhook ini telah dihapus oleh administrator Netra, jadi tidak ada yang "
    "dapat ditandatangani / the key of this webhook's secret was erased by a Netra "
    "administrator, so nothing can be signed"
)
SECRET_UNAVAILABLE = (
    "rahasia webhook tidak dapat dibuka di sisi Netra; akan dicoba lagi / the webhook "
    "secret cannot be opened on Netra's side; it will be tried again"
)


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this worker, with where and how to send it."""

    id: int
    partner: str
    body: bytes
    attempts: int
    url: str
    # The partner's secret, opened for this batch; never in a log line or a traceback's repr.
    # None when it could not be opened, and ``unsigned`` says why.
    secret: str | None = field(repr=False)
    unsigned: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one POST achieved: a status code (if the partner answered) and an error text."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# The prefix of a delivery refused before any connection (the reason names no address).
NOT_SENT = "tidak dikirim / not sent"


def _connect(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of ``addresses`` (all of them checked) that answers."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client, but connecting to the checked addresses instead of resolving ``host``."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.target.host, destination.target.port, timeout=timeout)
        self.addresses = destination.addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the URL's host is the server name sent and the one verified."""

    def __init__(self, destination: Destination, timeout: float, tls: ssl.SSLContext) -> None:
        super().__init__(destination.target.host, destination.target.port, timeout=timeout, context=tls)
        self.addresses = destination.addresses
        self.tls = tls

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def post_delivery(
    claimed: Claimed, *, timeout: float, policy: DestinationPolicy, tls: ssl.SSLContext | None = None
) -> Outcome:
    """POST one delivery, signed, if ``policy`` allows its URL now; never raises for the
    partner's failures, only reports them."""
    if claimed.secret is None:
        # Nothing can be signed, so nothing is sent (nor is the URL looked up).
        return Outcome(None, f"{NOT_SENT}: {claimed.unsigned or SECRET_UNAVAILABLE}"[:MAX_ERROR_CHARS])
    try:
        destination = policy.check(claimed.url)
    except RefusedDestination as refused:
        # Nothing was sent, so there is no answer to report: only the rule it broke.
        return Outcome(None, f"{NOT_SENT}: {refused}"[:MAX_ERROR_CHARS])
    target = destination.target
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(destination, timeout, tls or ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(destination, timeout)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(claimed.secret, claimed.body),
        DELIVERY_HEADER: str(claimed.id),
        "User-Agent": "Netra-Webhooks/1",
    }
    try:
        connection.request("POST", target.path, body=claimed.body, headers=headers)
        response = connection.getresponse()
        status, reason = response.status, response.reason
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # Refused, timed out, TLS failure, or not HTTP: the partner's own endpoint failed.
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
    finally:
        connection.close()
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        # Following it would send the signed body wherever the Location says, unchecked.
        return Outcome(status, f"HTTP {status} {reason} (redirects are not followed)"[:MAX_ERROR_CHARS])
    return Outcome(status, f"HTTP {status} {reason}"[:MAX_ERROR_CHARS])


class WebhookWorker:
    """Sends due deliveries from ``webhook_deliveries``; the clock decides what is due."""

    def __init__(
        self,
        engine: sa.Engine,
        clock: Clock,
        *,
        keys: KeyStore,
        batch_size: int = 20,
        timeout: float = 10.0,
        policy: DestinationPolicy | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = keys  # where the partners' secrets are opened
        self.batch_size = batch_size
        self.timeout = timeout
        # Default: https to public addresses only, nothing allow-listed.
        self.policy = policy or DestinationPolicy()
        self.tls = tls or ssl.create_default_context()
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
                    "RETURNING d.id, d.partner, d.body, d.attempts, w.url, w.secret"
                ),
                {"now": now, "lease_until": now + self.lease, "n": self.batch_size},
            ).all()
        # After the claim's commit: the key store is asked once per partner in the batch.
        stored = {r.partner: r.secret for r in rows}
        opened = {partner: self._open(partner, value) for partner, value in stored.items()}
        claimed = [
            Claimed(r.id, r.partner, r.body.encode(), r.attempts, r.url, *opened[r.partner]) for r in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    def _open(self, partner: str, stored: object) -> tuple[str | None, str | None]:
        """``partner``'s clear secret, or None and why not (a reason the partner may read)."""
        if is_legacy_secret(stored):
            log.warning(
                "the webhook secret of %s is stored in plain text (registered before sealing); "
                "it is sealed when the partner registers again",
                partner,
            )
        try:
            return open_secret(self.keys, partner, stored, actor=ACTOR), None
        except Erased:
            log.warning("the key of %s is erased: its deliveries are not sent", secret_subject(partner))
            return None, SECRET_ERASED
        except (KeyringError, sa.exc.OperationalError) as exc:
            # Ours to fix (the KEK, the key store's database), not the partner's: the detail
            # stays in our log, and the delivery is retried with backoff like any failure.
            log.error("the webhook secret of %s cannot be opened: %s", partner, exc)
            return None, SECRET_UNAVAILABLE

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
            outcome = post_delivery(delivery, timeout=self.timeout, policy=self.policy, tls=self.tls)
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


def build_webhook_worker(
    settings: Settings, clock: Clock | None = None, resolver: Resolver = system_resolver
) -> WebhookWorker:
    """The worker on ``settings``: intake's database, the key store (its database and KEKs,
    as the apps have them) and the allow-list (NETRA_WEBHOOK_HTTP_HOSTS)."""
    clock = clock or SystemClock()
    engine = create_engine(prepare_database(settings, "intake"), pool_size=2, pre_ping=False)
    keys = KeyStore(
        create_engine(prepare_database(settings, "keyring"), pool_size=1), kek_source(settings), clock
    )
    policy = DestinationPolicy.of(settings.webhook_http_hosts, resolver)
    return WebhookWorker(engine, clock, keys=keys, policy=policy)


def run_webhook_worker(settings: Settings) -> None:
    """Run the intake webhook worker until SIGTERM or SIGINT."""
    configure_logging(settings)
    stop = stop_on_signals()
    worker = build_webhook_worker(settings)
    keep_beating(settings, "intake", "webhooks", stop)
    worker.run(stop)
