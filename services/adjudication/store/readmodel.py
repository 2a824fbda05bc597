"""Adjudication's read models as a function of its own events (the shared.readmodel contract).

``project`` is the only writer of ``adjudication_cases`` and ``adjudication_deadlines``: the
command side calls it on every event it appends, in the same transaction, and
``netra audit replay`` on the events read back from Kafka. It reads only the envelope and
the rows projected before it (no clock, no random ids), so the two must agree row for row.

Deadlines come from the events' own ``deadlines`` payload (started / met / cancelled) and
from ``adjudication.deadline_missed``, so due dates and statuses need no other table.

``REDERIVE`` re-runs the deciders of the finding and of what follows it on the events before
them; replay compares the result byte for byte with what was recorded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case, State, state_after
from services.adjudication.domain.commands import Deciding
from services.adjudication.domain.finding import command_of, record_finding
from services.adjudication.domain.referral import conclude
from services.adjudication.domain.rules import RuleBook, load_rule_book
from shared.envelope import Envelope, NewEvent
from shared.readmodel import ReadModel
from shared.workdays import WorkingCalendar

TABLES = ("adjudication_cases", "adjudication_deadlines")


def project(conn: sa.Connection, envelope: Envelope) -> None:
    """Apply one adjudication event to the read models."""
    if envelope.event_type == ev.EXAMINATION_OPENED:
        _open(conn, envelope)
    row = conn.execute(
        sa.text("SELECT state FROM adjudication_cases WHERE case_id = :c FOR UPDATE"), _key(envelope)
    ).first()
    if row is None:
        return  # a report noted before its case is registered: no file yet
    changes: dict[str, Any] = {
        "state": state_after(State(row.state), envelope.event_type, envelope.payload).value,
        "version": envelope.stream_version,
        "updated_at": datetime.fromisoformat(envelope.occurred_at),
    }
    extra = _COLUMNS.get(envelope.event_type)
    if extra is not None:
        changes.update(extra(envelope.payload))
    sets = ", ".join(f"{name} = :{name}" for name in changes)
    conn.execute(
        sa.text(f"UPDATE adjudication_cases SET {sets} WHERE case_id = :c"), {**changes, **_key(envelope)}
    )
    _deadlines(conn, envelope)


def _open(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    subject, incident, election = p["subject"], p.get("incident") or {}, p.get("election") or {}
    conn.execute(
        sa.text(
            "INSERT INTO adjudication_cases (case_id, case_number, state, version, subject, employee_type, "
            "position_kind, agency, agency_level, province, regency, election_type, election_year, incident_date, "
            "assignee, opened_at, updated_at, ppk_noncompliant, temporarily_released) VALUES (:c, :n, :s, 0, "
            "CAST(:subject AS json), :etype, :pk, :agency, :al, :prov, :reg, :el, :ey, :idate, NULL, :at, :at, "
            "false, false)"
        ),
        {
            **_key(e),
            "n": p["case_number"],
            "s": State.AWAITING_REGISTRATION.value,
            "subject": json.dumps(subject),
            "etype": subject.get("employee_type"),
            "pk": subject.get("position_kind"),
            "agency": subject.get("agency"),
            "al": subject.get("agency_level"),
            "prov": incident.get("province"),
            "reg": incident.get("regency"),
            "el": election.get("type"),
            "ey": election.get("year"),
            "idate": date.fromisoformat(incident["date"]) if incident.get("date") else None,
            "at": datetime.fromisoformat(e.occurred_at),
        },
    )


def _profile(p: Mapping[str, Any]) -> dict[str, Any]:
    # ``agency``: the subject's agency as last recorded, which decides who may read the case
    # (shared.scope); the ``subject`` column keeps the subject as the examination opened it.
    given = p["subject"]
    return {k: given[k] for k in ("position_kind", "agency", "agency_level", "employee_type") if k in given}


_COLUMNS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    ev.INVESTIGATOR_ASSIGNED: lambda p: {"assignee": p["investigator_id"]},
    ev.INVESTIGATOR_RECUSED: lambda p: {"assignee": None},
    ev.SUBJECT_PROFILE_RECORDED: _profile,
    ev.PPK_NONCOMPLIANCE_RECORDED: lambda p: {"ppk_noncompliant": True},
    ev.LAPSE_WITHDRAWN: lambda p: (
        {"ppk_noncompliant": False}
        if any(w["event_type"] == ev.PPK_NONCOMPLIANCE_RECORDED for w in p["withdrawn"])
        else {}
    ),
    ev.TEMPORARILY_RELEASED: lambda p: {"temporarily_released": True},
    ev.FINDING_RECORDED: lambda p: {"finding_level": p["level"], "finding_category": p["category"]},
    ev.CASE_REFERRED: lambda p: {"deciding_official": p["deciding_official"]["official"]},
}


def _deadlines(conn: sa.Connection, e: Envelope) -> None:
    clocks = e.payload.get("deadlines")
    if isinstance(clocks, Mapping):
        for started in clocks.get("started", []):
            conn.execute(
                sa.text(
                    "INSERT INTO adjudication_deadlines (case_id, kind, started_by, due_on, day_count, rule, "
                    "article, status) VALUES (:c, :k, :e, :due, :count, :rule, :article, 'PENDING')"
                ),
                {
                    **_key(e),
                    "k": started["kind"],
                    "e": uuid.UUID(e.event_id),
                    "due": date.fromisoformat(started["due_on"]),
                    "count": started["day_count"],
                    "rule": started.get("rule"),
                    "article": started.get("article"),
                },
            )
        _set_status(conn, e, clocks.get("met", []), {"PENDING": "MET", "MISSED": "MET_LATE"})
        _set_status(conn, e, clocks.get("met_late", []), {"PENDING": "MET_LATE", "MISSED": "MET_LATE"})
        _set_status(conn, e, clocks.get("cancelled", []), {"PENDING": "CANCELLED"})
    if e.event_type == ev.DEADLINE_MISSED:
        _set_status(conn, e, [e.payload["kind"]], {"PENDING": "MISSED"})
    if e.event_type == ev.LAPSE_WITHDRAWN:
        # Pending again until the fact that follows meets it.
        _set_status(
            conn, e, [w["kind"] for w in e.payload["withdrawn"] if "kind" in w], {"MISSED": "PENDING"}
        )


def _set_status(conn: sa.Connection, e: Envelope, kinds: Sequence[str], moves: Mapping[str, str]) -> None:
    for before, after in moves.items():
        conn.execute(
            sa.text(
                "UPDATE adjudication_deadlines SET status = :after, resolved_by = :e "
                "WHERE case_id = :c AND kind = ANY(:kinds) AND status = :before"
            ),
            {**_key(e), "after": after, "before": before, "kinds": list(kinds), "e": uuid.UUID(e.event_id)},
        )


def _key(e: Envelope) -> dict[str, Any]:
    return {"c": uuid.UUID(e.stream_id)}


# --- rederive: the deciders re-run on recorded inputs -----------------------------------

_BOOK: RuleBook | None = None


def _book() -> RuleBook:
    global _BOOK
    if _BOOK is None:
        _BOOK = load_rule_book()
    return _BOOK


def rederive_finding(envelope: Envelope, prior: Sequence[Envelope]) -> NewEvent:
    """``finding_recorded`` decided again from the events before it and its recorded request."""
    inputs = envelope.payload["inputs"]
    at = datetime.fromisoformat(envelope.occurred_at)
    d = Deciding(_book(), WorkingCalendar(), at, inputs["decided_by"])
    case = Case.from_events(prior, envelope.stream_id)
    return record_finding(case, command_of(inputs["request"]), d).events[0]


def rederive_conclusion(envelope: Envelope, prior: Sequence[Envelope]) -> NewEvent:
    """``case_referred`` / ``case_closed_not_proven`` decided again from the events before it."""
    case = Case.from_events(prior, envelope.stream_id)
    return conclude(case, _book()).events[0]


READ_MODEL = ReadModel(
    service="adjudication",
    tables=TABLES,
    project=project,
    rederive={
        ev.FINDING_RECORDED: rederive_finding,
        ev.CASE_REFERRED: rederive_conclusion,
        ev.CASE_CLOSED_NOT_PROVEN: rederive_conclusion,
    },
)
