"""Partner webhooks (docs/partner-api.md, "Webhooks"): registration, queueing, signing, backoff.

A stage change is queued in ``webhook_deliveries`` in the same transaction that records it,
so a change is never lost and never announced without having happened; the worker
(``services.intake.webhook_worker``) sends the queued rows at least once, retrying with
backoff until the partner answers 2xx. The pure pieces (body, signature, backoff) live here
so that tests and partners' reference code can call them directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

PENDING = "PENDING"
DELIVERED = "DELIVERED"
FAILED_RETRYING = "FAILED_RETRYING"
STATUSES = (PENDING, DELIVERED, FAILED_RETRYING)

SIGNATURE_HEADER = "X-Netra-Signature"
DELIVERY_HEADER = "X-Netra-Delivery"

FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)


def render_body(*, report_id: str, case_id: str, stage: str, at: datetime, event_id: str) -> bytes:
    """The JSON body POSTed to the partner: compact, keys in the contract's order.

    These exact bytes are stored and signed, so a retry sends what was signed the first time.
    """
    if at.tzinfo is None:
        raise ValueError("a stage change needs a timezone-aware instant")
    document = {
        "report_id": str(report_id),
        "case_id": str(case_id),
        "stage": stage,
        "at": at.astimezone(UTC).isoformat(),
        "event_id": event_id,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Netra-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``body`` with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is ``sign(secret, body)`` (constant-time, as partners should check)."""
    return hmac.compare_digest(sign(secret, body), signature)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s … capped at 10 min.

    There is no give-up: at the cap a partner endpoint down for days is tried every 10 minutes
    and loses nothing.
    """
    if attempts < 1:
        return timedelta(0)
    # The exponent is bounded so a row with a huge attempt count cannot overflow timedelta.
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


def register_webhook(conn: sa.Connection, *, partner: str, url: str, secret: str, now: datetime) -> None:
    """Register or replace ``partner``'s callback.

    The secret is stored as given because the worker needs it to sign; encrypting it at rest
    (a key outside the database) is future work.
    """
    conn.execute(
        sa.text(
            "INSERT INTO webhooks (partner, url, secret, updated_at) VALUES (:p, :u, :s, :now) "
            "ON CONFLICT (partner) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, "
            "updated_at = EXCLUDED.updated_at"
        ),
        {"p": partner, "u": url, "s": secret, "now": now},
    )


def enqueue_stage_change(
    conn: sa.Connection,
    *,
    case_id: str,
    stage: str,
    at: datetime,
    event_id: str,
    report_id: str | None = None,
) -> int:
    """Queue one webhook delivery per report of that case whose partner registered a webhook
    (only ``report_id``'s, when given: a new report entering RECEIVED); return how many.

    Call it in the transaction that records the stage change. A re-processed event queues
    nothing new: ``(partner, report_id, event_id)`` is unique and conflicts are skipped.
    """
    targets = conn.execute(
        sa.text(
            "SELECT r.report_id, r.partner FROM intake_reports r "
            "JOIN webhooks w ON w.partner = r.partner "
            "WHERE r.case_id = CAST(:case_id AS uuid) "
            "AND (CAST(:report_id AS uuid) IS NULL OR r.report_id = CAST(:report_id AS uuid)) "
            "ORDER BY r.received_at, r.report_id"
        ),
        {"case_id": str(case_id), "report_id": report_id},
    ).all()
    queued = 0
    for report_id, partner in targets:
        body = render_body(
            report_id=str(report_id), case_id=str(case_id), stage=stage, at=at, event_id=event_id
        )
        inserted = conn.execute(
            sa.text(
                "INSERT INTO webhook_deliveries (partner, report_id, case_id, stage, event_id, body, "
                "status, attempts, next_attempt_at, created_at) "
                "VALUES (:partner, :report_id, CAST(:case_id AS uuid), :stage, :event_id, :body, "
                # Due from the instant of the change: the worker's clock, not the database's,
                # decides when it is sent.
                "'PENDING', 0, :at, now()) "
                "ON CONFLICT (partner, report_id, event_id) DO NOTHING RETURNING id"
            ),
            {
                "partner": partner,
                "report_id": report_id,
                "case_id": str(case_id),
                "stage": stage,
                "event_id": event_id,
                "body": body.decode(),
                "at": at,
            },
        ).first()
        queued += inserted is not None
    return queued


def deliveries_of(
    conn: sa.Connection, partner: str, *, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """``partner``'s deliveries, newest first, one page of them, and how many there are in all."""
    total = conn.execute(
        sa.text("SELECT count(*) FROM webhook_deliveries WHERE partner = :p"), {"p": partner}
    ).scalar_one()
    rows = conn.execute(
        sa.text(
            "SELECT id, report_id, case_id, stage, event_id, status, attempts, last_status_code, "
            "last_error, next_attempt_at, created_at, delivered_at FROM webhook_deliveries "
            "WHERE partner = :p ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {"p": partner, "limit": limit, "offset": offset},
    ).all()
    return int(total), [row._asdict() for row in rows]
