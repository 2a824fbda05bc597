"""Intake's queries of its read models, and its command-side state: case numbers, idempotency
keys and the partners' request bodies.

The read models (reports, cases, stage history) are written only by
``services.intake.store.readmodel.project`` from the events a command appends, in the same
transaction; this module reads them (linking's candidates, the partner's view)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.intake.domain.admissibility import reporting_deadline
from services.intake.domain.events import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
)
from services.intake.domain.linking import (
    ExistingCase,
    LinkFacts,
    Period,
    PersonKey,
    PersonScheme,
    SourceRef,
)
from services.intake.domain.stages import RECEIVED
from shared.envelope import Envelope


def next_case_number(engine: sa.Engine, year: int) -> int:
    """The next number of ``year``, taken in its own short transaction.

    Taken inside the registration's transaction, the year's row lock would make every
    registration wait for the one before it to commit. Like a sequence, a number taken by a
    registration that then fails is not reused: the gap is explained by the event log, where
    no case carries that number.
    """
    with engine.begin() as own:
        return int(
            own.execute(
                sa.text(
                    "INSERT INTO intake_case_numbers (year, last_number) VALUES (:y, 1) "
                    "ON CONFLICT (year) DO UPDATE SET last_number = intake_case_numbers.last_number + 1 "
                    "RETURNING last_number"
                ),
                {"y": year},
            ).scalar_one()
        )


def claim_idempotency_key(
    conn: sa.Connection, partner: str, key: str, body_sha256: str, at: datetime
) -> tuple[str, dict[str, Any] | None] | None:
    """Claim ``key`` for this request; None when claimed, else (stored body hash, response).

    A concurrent request with the same key waits on the unique index until the first one
    commits, then finds its row: two requests never both create a report.
    """
    claimed = conn.execute(
        sa.text(
            "INSERT INTO intake_idempotency (partner, key, body_sha256, created_at) "
            "VALUES (:p, :k, :h, :at) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"p": partner, "k": key, "h": body_sha256, "at": at},
    ).first()
    if claimed:
        return None
    row = conn.execute(
        sa.text("SELECT body_sha256, response FROM intake_idempotency WHERE partner = :p AND key = :k"),
        {"p": partner, "k": key},
    ).one()
    return str(row.body_sha256), row.response


def store_response(conn: sa.Connection, partner: str, key: str, response: dict[str, Any]) -> None:
    """Keep the answer given to a key, to give it again on a retry."""
    conn.execute(
        sa.text("UPDATE intake_idempotency SET response = CAST(:r AS json) WHERE partner = :p AND key = :k"),
        {"r": _json(response), "p": partner, "k": key},
    )


def candidate_cases(conn: sa.Connection, facts: LinkFacts) -> list[ExistingCase]:
    """Cases the report could join or be linked to: same person, or sharing its reference."""
    clauses, params = [], {}
    if facts.person is not None:
        clauses.append("person_key = :person")
        params["person"] = str(facts.person)
    if facts.source is not None:
        clauses.append("sources::jsonb @> CAST(:source AS jsonb)")
        params["source"] = _json([[facts.source.partner, facts.source.ref]])
    if not clauses:
        return []
    rows = conn.execute(sa.text(f"SELECT * FROM intake_cases WHERE {' OR '.join(clauses)}"), params).all()
    return [_existing(row) for row in rows]


def keep_body(conn: sa.Connection, report_id: str, body: dict[str, Any]) -> None:
    """Keep (or replace) the partner's request body: a supplement completes and re-validates
    it. Command-side state, not a read model: no event carries the raw body."""
    conn.execute(
        sa.text(
            "INSERT INTO intake_report_bodies (report_id, body) VALUES (:r, CAST(:b AS json)) "
            "ON CONFLICT (report_id) DO UPDATE SET body = EXCLUDED.body"
        ),
        {"r": uuid.UUID(report_id), "b": _json(body)},
    )


def report_for_supplement(conn: sa.Connection, report_id: uuid.UUID, partner: str) -> Any:
    """The partner's report row with its case number, locked for the supplement, or None."""
    return conn.execute(
        sa.text(
            "SELECT r.*, b.body, c.case_number FROM intake_reports r JOIN intake_cases c USING (case_id) "
            "JOIN intake_report_bodies b USING (report_id) "
            "WHERE r.report_id = :r AND r.partner = :p FOR UPDATE OF r"
        ),
        {"r": report_id, "p": partner},
    ).first()


def report_owner(conn: sa.Connection, report_id: uuid.UUID) -> Any:
    """Which partner filed a report, on which case, about an employee of which agency
    (``partner``, ``case_id``, ``agency``), or None."""
    return conn.execute(
        sa.text(
            "SELECT r.partner, r.case_id, c.agency FROM intake_reports r JOIN intake_cases c USING (case_id) "
            "WHERE r.report_id = :r"
        ),
        {"r": report_id},
    ).first()


def cases_of_person(conn: sa.Connection, blind: str) -> list[str]:
    """The ids of the cases about the person whose number has the blind index ``blind``."""
    rows = conn.execute(
        sa.text("SELECT case_id FROM intake_cases WHERE person_key IN (:nip, :pppk) ORDER BY opened_at"),
        {"nip": f"NIP {blind}", "pppk": f"NI_PPPK {blind}"},
    ).scalars()
    return [str(r) for r in rows]


def reporters_due(conn: sa.Connection, stage: str, reached_by: datetime, limit: int = 100) -> list[str]:
    """Reports whose reporter is still kept and whose case is at ``stage`` and reached it
    (its latest such change) before ``reached_by``: the ids, oldest first."""
    rows = conn.execute(
        sa.text(
            "SELECT r.report_id FROM intake_reports r JOIN intake_cases c USING (case_id) "
            "JOIN intake_case_stages s ON s.case_id = c.case_id AND s.stage = :stage "
            "WHERE c.stage = :stage AND r.reporter_erased_at IS NULL "
            "AND r.record->'reporter' IS NOT NULL AND json_typeof(r.record->'reporter') = 'object' "
            "GROUP BY r.report_id HAVING max(s.at) < :by ORDER BY max(s.at) LIMIT :n"
        ),
        {"stage": stage, "by": reached_by, "n": limit},
    ).scalars()
    return [str(r) for r in rows]


def report_view(conn: sa.Connection, report_id: uuid.UUID, partner: str) -> dict[str, Any] | None:
    """The partner's view of its own report, or None (unknown, or another partner's)."""
    row = conn.execute(
        sa.text(
            "SELECT r.report_id, r.status, r.case_id, c.case_number, c.stage, r.late, r.received_at "
            "FROM intake_reports r JOIN intake_cases c USING (case_id) "
            "WHERE r.report_id = :r AND r.partner = :p"
        ),
        {"r": report_id, "p": partner},
    ).first()
    if row is None:
        return None
    history = conn.execute(
        sa.text("SELECT stage, at FROM intake_case_stages WHERE case_id = :c ORDER BY at, event_id"),
        {"c": row.case_id},
    ).all()
    return {
        "report_id": str(row.report_id),
        "status": row.status,
        "case_id": str(row.case_id),
        "case_number": row.case_number,
        "stage": row.stage,
        "late": row.late,
        "reporting_deadline": recorded_deadline(conn, row.case_id, str(row.report_id)),
        "received_at": row.received_at,
        "history": [{"stage": RECEIVED, "at": row.received_at}]
        + [{"stage": h.stage, "at": h.at} for h in history],
    }


# The events that record a report's assessment; the first of them is what ``late`` says.
_ASSESSED = (REPORT_LINKED, CASE_REGISTERED, REPORT_MARKED_INCOMPLETE, CASE_FORWARDED_OUT_OF_SCOPE)


def recorded_deadline(conn: sa.Connection, case_id: Any, report_id: str) -> dict[str, Any] | None:
    """The reporting deadline of ``report_id`` as its first assessment recorded it, or None.

    The read model keeps only ``late``; the window is in the recorded event's assessment
    (a supplement's reassessment never changes ``late``, so it does not change this either).
    """
    rows = conn.execute(
        sa.text(
            "SELECT envelope FROM events WHERE stream_id = :c AND event_type IN :types "
            "ORDER BY stream_version"
        ).bindparams(sa.bindparam("types", expanding=True)),
        {"c": str(case_id), "types": list(_ASSESSED)},
    ).scalars()
    for envelope in rows:
        payload = Envelope.from_bytes(envelope.encode()).payload
        if payload.get("report_id") == report_id and "assessment" in payload:
            return reporting_deadline(payload["assessment"].get("window"))
    return None


def _existing(row: Any) -> ExistingCase:
    person = None
    if row.person_key:
        scheme, _, number = row.person_key.partition(" ")
        person = PersonKey(PersonScheme(scheme), number)
    return ExistingCase(
        case_id=str(row.case_id),
        opened_on=row.opened_at.date(),
        person=person,
        conduct=frozenset(row.conduct),
        period=Period(row.period_start, row.period_end),
        sources=frozenset(SourceRef(p, r) for p, r in row.sources),
        case_number=row.case_number,
    )


def _json(value: Any) -> str:
    return json.dumps(value, default=str)
