"""Intake's read models, kept in the same transaction as the events that change them:
case numbers, idempotency keys, reports (the partner's view) and cases (what linking and
staff queries read)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.intake.domain import Receipt
from services.intake.linking import ExistingCase, LinkFacts, Period, PersonKey, PersonScheme, SourceRef
from services.intake.report import Report

RECEIVED = "RECEIVED"  # the first partner-facing stage of every case


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


def case_number_of(conn: sa.Connection, case_id: str) -> str:
    """The number of an existing case."""
    return str(
        conn.execute(
            sa.text("SELECT case_number FROM intake_cases WHERE case_id = :c"), {"c": uuid.UUID(case_id)}
        ).scalar_one()
    )


def record_receipt(
    conn: sa.Connection,
    receipt: Receipt,
    report: Report,
    *,
    report_id: str,
    partner: str,
    received_at: datetime,
    body: dict[str, Any],
) -> None:
    """Project a receipt: the report row (with the body a supplement completes), and the
    case opened or widened."""
    facts = LinkFacts.of(report, partner)
    conn.execute(
        sa.text(
            "INSERT INTO intake_reports (report_id, partner, case_id, status, late, received_at, body) "
            "VALUES (:r, :p, :c, :s, :l, :at, CAST(:body AS json))"
        ),
        {
            "body": _json(body),
            "r": uuid.UUID(report_id),
            "p": partner,
            "c": uuid.UUID(receipt.case_id),
            "s": receipt.status.value,
            "l": bool(receipt.events[-1].payload.get("late", False)),
            "at": received_at,
        },
    )
    if receipt.opens_case:
        _open_case(conn, receipt, report, facts, received_at)
    else:
        _widen_case(conn, receipt.case_id, facts)


def _open_case(conn: sa.Connection, receipt: Receipt, report: Report, facts: LinkFacts, at: datetime) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO intake_cases (case_id, case_number, stage, person_key, conduct, period_start, "
            "period_end, sources, province, regency, agency, election_type, election_year, late, opened_at) "
            "VALUES (:c, :n, :stage, :person, :conduct, :start, :end, :sources, :province, :regency, "
            ":agency, :etype, :eyear, :late, :at)"
        ),
        {
            "c": uuid.UUID(receipt.case_id),
            "n": receipt.case_number,
            "stage": RECEIVED,
            "person": str(facts.person) if facts.person else None,
            "conduct": _json(sorted(facts.conduct)),
            "start": facts.period.start,
            "end": facts.period.end,
            "sources": _json([[facts.source.partner, facts.source.ref]] if facts.source else []),
            "province": report.incident.province,
            "regency": report.incident.regency,
            "agency": report.subject.agency,
            "etype": report.election.type.value,
            "eyear": report.election.year,
            "late": bool(receipt.events[-1].payload.get("late", False)),
            "at": at,
        },
    )


def _widen_case(conn: sa.Connection, case_id: str, facts: LinkFacts) -> None:
    conn.execute(
        sa.text(
            "UPDATE intake_cases SET period_start = LEAST(period_start, :start), "
            "period_end = GREATEST(period_end, :end), "
            "sources = CASE WHEN CAST(:source AS jsonb) IS NULL THEN sources "
            "  ELSE (sources::jsonb || CAST(:source AS jsonb))::json END "
            "WHERE case_id = :c"
        ),
        {
            "c": uuid.UUID(case_id),
            "start": facts.period.start,
            "end": facts.period.end,
            "source": _json([[facts.source.partner, facts.source.ref]]) if facts.source else None,
        },
    )


def report_for_supplement(conn: sa.Connection, report_id: uuid.UUID, partner: str) -> Any:
    """The partner's report row with its case number, locked for the supplement, or None."""
    return conn.execute(
        sa.text(
            "SELECT r.*, c.case_number FROM intake_reports r JOIN intake_cases c USING (case_id) "
            "WHERE r.report_id = :r AND r.partner = :p FOR UPDATE OF r"
        ),
        {"r": report_id, "p": partner},
    ).first()


def record_supplement(conn: sa.Connection, report_id: uuid.UUID, status: str, body: dict[str, Any]) -> None:
    """The report's new status and completed body."""
    conn.execute(
        sa.text("UPDATE intake_reports SET status = :s, body = CAST(:b AS json) WHERE report_id = :r"),
        {"s": status, "b": _json(body), "r": report_id},
    )


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
        "received_at": row.received_at,
        "history": [{"stage": RECEIVED, "at": row.received_at}]
        + [{"stage": h.stage, "at": h.at} for h in history],
    }


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
    )


def _json(value: Any) -> str:
    return json.dumps(value, default=str)
