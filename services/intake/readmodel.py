"""Intake's read models as a function of intake's own events (the shared.readmodel contract).

``project`` is the only writer of ``intake_cases``, ``intake_reports`` and
``intake_case_stages``: the command side calls it on every event it appends, in the same
transaction, and ``netra audit replay`` calls it on the events read back from Kafka. It reads
only the envelope and the rows projected before it — no clock, no random ids — so the two
must agree row for row.

Not read models, so not here: case-number counters, idempotency keys, the partner's raw
request body (kept for supplements), webhook registrations and the delivery queue. They are
command-side state that no event fully describes.

One append projects as a unit: ``intake.report_received`` creates the report row and the
event after it (registered, linked, incomplete, forwarded) gives it its status and opens or
widens the case, reading the facts the first one recorded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.intake.domain import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
    REPORT_RECEIVED,
    ReportStatus,
    report_of_record,
)
from services.intake.linking import LinkFacts
from shared.envelope import Envelope
from shared.readmodel import ReadModel

CASE_STAGE_CHANGED = "intake.case_stage_changed"
CASE_STAGE_NOTED = "intake.case_stage_noted"
RECEIVED = "RECEIVED"  # the first partner-facing stage of every case, and of every report row

TABLES = ("intake_cases", "intake_reports", "intake_case_stages")


def project(conn: sa.Connection, envelope: Envelope) -> None:
    """Apply one intake event to the read models (events of other types change nothing)."""
    apply = _PROJECTIONS.get(envelope.event_type)
    if apply is not None:
        apply(conn, envelope)


def _report_received(conn: sa.Connection, event: Envelope) -> None:
    p = event.payload
    conn.execute(
        sa.text(
            "INSERT INTO intake_reports (report_id, partner, case_id, status, late, received_at, record) "
            "VALUES (:r, :p, :c, :s, false, :at, CAST(:record AS json))"
        ),
        {
            "r": uuid.UUID(p["report_id"]),
            "p": p["partner"],
            "c": uuid.UUID(event.stream_id),
            "s": RECEIVED,
            "at": datetime.fromisoformat(p["received_at"]),
            "record": _json(p["report"]),
        },
    )


def _opening(status: ReportStatus) -> Callable[[sa.Connection, Envelope], None]:
    """The projection of an event that gives a report its status and opens its case."""

    def apply(conn: sa.Connection, event: Envelope) -> None:
        late = bool(event.payload.get("late", False))
        report = _set_status(conn, event, status, late)
        if _case_exists(conn, event.stream_id):
            return  # registered after a supplement: the case was opened when it came in
        facts = LinkFacts.of(report_of_record(report.record), report.partner)
        record = report.record
        conn.execute(
            sa.text(
                "INSERT INTO intake_cases (case_id, case_number, stage, person_key, conduct, period_start, "
                "period_end, sources, province, regency, agency, election_type, election_year, late, "
                "opened_at) VALUES (:c, :n, :stage, :person, :conduct, :start, :end, :sources, :province, "
                ":regency, :agency, :etype, :eyear, :late, :at)"
            ),
            {
                "c": uuid.UUID(event.stream_id),
                "n": event.payload["case_number"],
                "stage": RECEIVED,
                "person": str(facts.person) if facts.person else None,
                "conduct": _json(sorted(facts.conduct)),
                "start": facts.period.start,
                "end": facts.period.end,
                "sources": _json([[facts.source.partner, facts.source.ref]] if facts.source else []),
                "province": record["incident"]["province"],
                "regency": record["incident"]["regency"],
                "agency": record["subject"]["agency"],
                "etype": record["election"]["type"],
                "eyear": record["election"]["year"],
                "late": late,
                "at": datetime.fromisoformat(event.occurred_at),
            },
        )

    return apply


def _report_linked(conn: sa.Connection, event: Envelope) -> None:
    report = _set_status(conn, event, ReportStatus.LINKED, bool(event.payload.get("late", False)))
    facts = LinkFacts.of(report_of_record(report.record), report.partner)
    conn.execute(
        sa.text(
            "UPDATE intake_cases SET period_start = LEAST(period_start, :start), "
            "period_end = GREATEST(period_end, :end), "
            "sources = CASE WHEN CAST(:source AS jsonb) IS NULL THEN sources "
            "  ELSE (sources::jsonb || CAST(:source AS jsonb))::json END "
            "WHERE case_id = :c"
        ),
        {
            "c": uuid.UUID(event.stream_id),
            "start": facts.period.start,
            "end": facts.period.end,
            "source": _json([[facts.source.partner, facts.source.ref]]) if facts.source else None,
        },
    )


def _stage_changed(conn: sa.Connection, event: Envelope) -> None:
    # A change's history row is the stage it moved the case to, at the cause's valid time.
    _stage_row(conn, event, event.payload["stage"])
    conn.execute(
        sa.text("UPDATE intake_cases SET stage = :s WHERE case_id = :c"),
        {"s": event.payload["stage"], "c": uuid.UUID(event.stream_id)},
    )


def _stage_noted(conn: sa.Connection, event: Envelope) -> None:
    _stage_row(conn, event, event.payload["stage"])


def _stage_row(conn: sa.Connection, event: Envelope, stage: str) -> None:
    """A history row, keyed by the adjudication or sanctions event that caused it."""
    conn.execute(
        sa.text("INSERT INTO intake_case_stages (case_id, stage, at, event_id) VALUES (:c, :s, :at, :e)"),
        {
            "c": uuid.UUID(event.stream_id),
            "s": stage,
            "at": datetime.fromisoformat(event.occurred_at),
            "e": event.causation_id,
        },
    )


def _set_status(conn: sa.Connection, event: Envelope, status: ReportStatus, late: bool) -> Any:
    """Give the event's report its status; return the report row (partner and record)."""
    row = conn.execute(
        sa.text(
            "UPDATE intake_reports SET status = :s, late = CASE WHEN status = :received THEN :late "
            "ELSE late END WHERE report_id = :r RETURNING partner, record"
        ),
        {"s": status.value, "late": late, "received": RECEIVED, "r": uuid.UUID(event.payload["report_id"])},
    ).one()
    return row


def _case_exists(conn: sa.Connection, case_id: str) -> bool:
    found = conn.execute(sa.text("SELECT 1 FROM intake_cases WHERE case_id = :c"), {"c": uuid.UUID(case_id)})
    return found.first() is not None


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


_PROJECTIONS: dict[str, Callable[[sa.Connection, Envelope], None]] = {
    REPORT_RECEIVED: _report_received,
    CASE_REGISTERED: _opening(ReportStatus.REGISTERED),
    REPORT_MARKED_INCOMPLETE: _opening(ReportStatus.INCOMPLETE),
    CASE_FORWARDED_OUT_OF_SCOPE: _opening(ReportStatus.OUT_OF_SCOPE),
    REPORT_LINKED: _report_linked,
    CASE_STAGE_CHANGED: _stage_changed,
    CASE_STAGE_NOTED: _stage_noted,
}

READ_MODEL = ReadModel(service="intake", tables=TABLES, project=project)
