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
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.intake.domain.events import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    CASE_STAGE_CHANGED,
    CASE_STAGE_NOTED,
    PERSONAL_DATA_ERASED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
    REPORT_RECEIVED,
)
from services.intake.domain.receiving import ReportStatus, facts_of_record
from services.intake.domain.stages import RECEIVED
from shared.envelope import Envelope
from shared.readmodel import ReadModel
from shared.scope import ReadScope

TABLES = ("intake_cases", "intake_reports", "intake_case_stages")


def project(conn: sa.Connection, envelope: Envelope) -> None:
    """Apply one intake event to the read models (events of other types change nothing)."""
    apply = _PROJECTIONS.get(envelope.event_type)
    if apply is not None:
        apply(conn, envelope)


# Built once: a text() clause parses its bind parameters when constructed.
_INSERT_REPORT = sa.text(
    "INSERT INTO intake_reports (report_id, partner, case_id, status, late, received_at, record) "
    "VALUES (:r, :p, :c, :s, :late, :at, CAST(:record AS json))"
)
_INSERT_CASE = sa.text(
    "INSERT INTO intake_cases (case_id, case_number, stage, person_key, conduct, period_start, "
    "period_end, sources, province, regency, agency, election_type, election_year, late, "
    "opened_at) VALUES (:c, :n, :stage, :person, :conduct, :start, :end, :sources, :province, "
    ":regency, :agency, :etype, :eyear, :late, :at)"
)
_WIDEN_CASE = sa.text(
    "UPDATE intake_cases SET period_start = LEAST(period_start, :start), "
    "period_end = GREATEST(period_end, :end), "
    "sources = CASE WHEN CAST(:source AS jsonb) IS NULL THEN sources "
    "  ELSE (sources::jsonb || CAST(:source AS jsonb))::json END "
    "WHERE case_id = :c"
)
_SET_CASE_STAGE = sa.text("UPDATE intake_cases SET stage = :s WHERE case_id = :c")
_INSERT_STAGE = sa.text(
    "INSERT INTO intake_case_stages (case_id, stage, at, event_id) VALUES (:c, :s, :at, :e)"
)
# The report's status and, in the same round trip, whether its case is open already.
_SET_STATUS = sa.text(
    "UPDATE intake_reports SET status = :s, late = CASE WHEN status = :received THEN :late "
    "ELSE late END WHERE report_id = :r "
    "RETURNING partner, record, EXISTS (SELECT 1 FROM intake_cases WHERE case_id = :c) AS case_open"
)
_OPEN_CASES = sa.text("SELECT case_id FROM intake_cases WHERE case_id = ANY(:ids)")


def _report_row(event: Envelope) -> dict[str, Any]:
    p = event.payload
    return {
        "r": uuid.UUID(p["report_id"]),
        "p": p["partner"],
        "c": uuid.UUID(event.stream_id),
        "s": RECEIVED,
        "late": False,
        "at": datetime.fromisoformat(p["received_at"]),
        "record": _json(p["report"]),
    }


def _report_received(conn: sa.Connection, event: Envelope) -> None:
    conn.execute(_INSERT_REPORT, _report_row(event))


def _case_row(event: Envelope, partner: str, record: dict[str, Any], late: bool) -> dict[str, Any]:
    """The row an opening event creates, from the facts its report recorded."""
    facts = facts_of_record(record, partner)
    return {
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
    }


def _opening(status: ReportStatus) -> Callable[[sa.Connection, Envelope], None]:
    """The projection of an event that gives a report its status and opens its case."""

    def apply(conn: sa.Connection, event: Envelope) -> None:
        late = bool(event.payload.get("late", False))
        report = _set_status(conn, event, status, late)
        if report.case_open:
            return  # registered after a supplement: the case was opened when it came in
        conn.execute(_INSERT_CASE, _case_row(event, report.partner, report.record, late))

    return apply


def _report_linked(conn: sa.Connection, event: Envelope) -> None:
    report = _set_status(conn, event, ReportStatus.LINKED, bool(event.payload.get("late", False)))
    facts = facts_of_record(report.record, report.partner)
    conn.execute(
        _WIDEN_CASE,
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
    conn.execute(_SET_CASE_STAGE, {"s": event.payload["stage"], "c": uuid.UUID(event.stream_id)})


def _stage_noted(conn: sa.Connection, event: Envelope) -> None:
    _stage_row(conn, event, event.payload["stage"])


def _stage_params(event: Envelope, stage: str) -> dict[str, Any]:
    return {
        "c": uuid.UUID(event.stream_id),
        "s": stage,
        "at": datetime.fromisoformat(event.occurred_at),
        "e": event.causation_id,
    }


def _stage_row(conn: sa.Connection, event: Envelope, stage: str) -> None:
    """A history row, keyed by the adjudication or sanctions event that caused it."""
    conn.execute(_INSERT_STAGE, _stage_params(event, stage))


def _set_status(conn: sa.Connection, event: Envelope, status: ReportStatus, late: bool) -> Any:
    """Give the event's report its status; return the report row (partner and record) and
    whether the event's case is open."""
    row = conn.execute(
        _SET_STATUS,
        {
            "s": status.value,
            "late": late,
            "received": RECEIVED,
            "r": uuid.UUID(event.payload["report_id"]),
            "c": uuid.UUID(event.stream_id),
        },
    ).one()
    return row


# What json.dumps(value, default=str) builds on every call, built once: the same text.
_ENCODER = json.JSONEncoder(default=str)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


_OPENINGS = {
    CASE_REGISTERED: ReportStatus.REGISTERED,
    REPORT_MARKED_INCOMPLETE: ReportStatus.INCOMPLETE,
    CASE_FORWARDED_OUT_OF_SCOPE: ReportStatus.OUT_OF_SCOPE,
}


def project_many(conn: sa.Connection, envelopes: Sequence[Envelope]) -> None:
    """For replay: the rows ``project`` leaves after each envelope in turn, with the writes
    batched. A report received and opened within the batch, its case, a stage change of a
    case opened within the batch and every stage row are kept in memory and inserted with
    one COPY per table; whether a case was open before the batch is asked once. Any
    other event (a report linked, an opening whose report came in an earlier batch) first
    writes what is buffered, then goes through ``project`` itself."""
    batch = _Batch(conn, envelopes)
    for envelope in envelopes:
        batch.apply(envelope)
    batch.flush()


class _Batch:
    def __init__(self, conn: sa.Connection, envelopes: Sequence[Envelope]) -> None:
        self.conn = conn
        self.reports: dict[uuid.UUID, dict[str, Any]] = {}
        self.records: dict[uuid.UUID, dict[str, Any]] = {}
        self.cases: dict[uuid.UUID, dict[str, Any]] = {}
        self.stages: list[dict[str, Any]] = []
        opened = sorted({uuid.UUID(e.stream_id) for e in envelopes if e.event_type in _OPENINGS})
        # Cases open before the batch, plus (below) every case an opening in it opened.
        self.open_cases: set[uuid.UUID] = (
            {row.case_id for row in conn.execute(_OPEN_CASES, {"ids": opened})} if opened else set()
        )

    def apply(self, event: Envelope) -> None:
        kind = event.event_type
        if kind == REPORT_RECEIVED:
            row = _report_row(event)
            if row["r"] in self.reports:
                self._one(event)  # the same report twice: let the database refuse it as before
                return
            self.reports[row["r"]] = row
            self.records[row["r"]] = event.payload["report"]
        elif kind in _OPENINGS:
            report_id, case_id = uuid.UUID(event.payload["report_id"]), uuid.UUID(event.stream_id)
            report = self.reports.get(report_id)
            if report is None:
                self._one(event)
                self.open_cases.add(case_id)
                return
            late = bool(event.payload.get("late", False))
            if report["s"] == RECEIVED:
                report["late"] = late
            report["s"] = _OPENINGS[kind].value
            if case_id in self.open_cases or case_id in self.cases:
                return
            # The payload's report is JSON already: the record column would read back equal.
            self.cases[case_id] = _case_row(event, report["p"], self.records[report_id], late)
        elif kind in (CASE_STAGE_CHANGED, CASE_STAGE_NOTED):
            self.stages.append(_stage_params(event, event.payload["stage"]))
            if kind == CASE_STAGE_CHANGED:
                case = self.cases.get(uuid.UUID(event.stream_id))
                if case is not None:
                    case["stage"] = event.payload["stage"]
                else:  # a case in the database (or none): only that row changes
                    self.conn.execute(
                        _SET_CASE_STAGE, {"s": event.payload["stage"], "c": uuid.UUID(event.stream_id)}
                    )
        elif kind in _PROJECTIONS:
            self._one(event)

    def _one(self, event: Envelope) -> None:
        self.flush()
        project(self.conn, event)

    def flush(self) -> None:
        """Write what is buffered: one COPY per table, the columns the INSERTs above name."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            for table, rows in (
                ("intake_reports", list(self.reports.values())),
                ("intake_cases", list(self.cases.values())),
                ("intake_case_stages", self.stages),
            ):
                if not rows:
                    continue
                columns, keys = _COPIED[table]
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[k] for k in keys])
        self.open_cases.update(self.cases)
        self.reports, self.records, self.cases, self.stages = {}, {}, {}, []


# Table -> (its columns, the parameter of each in _INSERT_REPORT, _INSERT_CASE, _INSERT_STAGE).
_COPIED = {
    "intake_reports": (
        "report_id, partner, case_id, status, late, received_at, record",
        ("r", "p", "c", "s", "late", "at", "record"),
    ),
    "intake_cases": (
        "case_id, case_number, stage, person_key, conduct, period_start, period_end, sources, "
        "province, regency, agency, election_type, election_year, late, opened_at",
        (
            "c",
            "n",
            "stage",
            "person",
            "conduct",
            "start",
            "end",
            "sources",
            "province",
            "regency",
            "agency",
            "etype",
            "eyear",
            "late",
            "at",
        ),
    ),
    "intake_case_stages": ("case_id, stage, at, event_id", ("c", "s", "at", "e")),
}


def _personal_data_erased(conn: sa.Connection, event: Envelope) -> None:
    report_id = event.payload.get("report_id")
    if report_id is not None and "reporter" in event.payload.get("fields", ()):
        conn.execute(
            sa.text("UPDATE intake_reports SET reporter_erased_at = :at WHERE report_id = :r"),
            {"at": datetime.fromisoformat(event.occurred_at), "r": uuid.UUID(report_id)},
        )


_PROJECTIONS: dict[str, Callable[[sa.Connection, Envelope], None]] = {
    REPORT_RECEIVED: _report_received,
    CASE_REGISTERED: _opening(ReportStatus.REGISTERED),
    REPORT_MARKED_INCOMPLETE: _opening(ReportStatus.INCOMPLETE),
    CASE_FORWARDED_OUT_OF_SCOPE: _opening(ReportStatus.OUT_OF_SCOPE),
    REPORT_LINKED: _report_linked,
    CASE_STAGE_CHANGED: _stage_changed,
    CASE_STAGE_NOTED: _stage_noted,
    PERSONAL_DATA_ERASED: _personal_data_erased,
}

READ_MODEL = ReadModel(service="intake", tables=TABLES, project=project, project_many=project_many)
# Who reads which case (shared.scope): by the subject's agency as the report named it; intake
# knows no assignment.
READ_SCOPE = ReadScope(agency="agency")
