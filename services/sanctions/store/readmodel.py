"""Sanctions' read models as a function of its own events (the shared.readmodel contract).

``project`` is the only writer of ``sanctions_cases`` and ``sanctions_timeline``: the command
side calls it on every event it appends, in the same transaction, and ``netra audit replay``
calls it on the events read back from Kafka. It reads only the envelope and the rows projected
before it: no clock, no random ids.

``REDERIVE`` re-runs the decision validity check on the recorded inputs of every
``sanctions.decision_issued`` and rebuilds the event, which replay compares byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import State
from services.sanctions.domain.decision import rederive_decision
from services.sanctions.domain.rules import default_rule_book
from shared.envelope import Envelope, NewEvent
from shared.readmodel import ReadModel
from shared.refusals import Refused
from shared.workdays import WorkingCalendar

TABLES = ("sanctions_cases", "sanctions_timeline")
OBLIGATIONS = (
    "ppk_follow_up",
    "delivery",
    "keberatan_decision",
    "official_answer",
    "ppk_answer",
    "bpasn_decision",
)
# The obligations an event fulfils: a breach recorded for them is no longer open.
FULFILS = {
    ev.DECISION_ISSUED: ("ppk_follow_up",),
    ev.DECISION_DELIVERED: ("delivery",),
    ev.OBJECTION_DECIDED: ("keberatan_decision", "official_answer"),
    ev.APPEAL_ANSWERED: ("ppk_answer",),
    ev.OBJECTION_ANSWERED: ("official_answer",),
    ev.APPEAL_DECIDED: ("bpasn_decision", "ppk_answer"),
    ev.CASE_CLOSED: OBLIGATIONS,
}


def project(conn: sa.Connection, envelope: Envelope) -> None:
    """Apply one sanctions event to the read models."""
    if envelope.event_type == ev.REFERRAL_RECEIVED:
        _referral(conn, envelope)
    row = conn.execute(
        sa.text("SELECT state, breaches FROM sanctions_cases WHERE case_id = :c"), {"c": envelope.stream_id}
    ).first()
    if row is None:
        return  # not a case sanctions knows (a test event): nothing to show
    changes: dict[str, Any] = {"version": envelope.stream_version, "updated_at": envelope.occurred_at}
    changes.update(_changes(envelope, row.state))
    changes["breaches"] = _json(_breaches(envelope, list(row.breaches or [])))
    assignments = ", ".join(f"{k} = :{k}" for k in changes)
    conn.execute(
        sa.text(f"UPDATE sanctions_cases SET {assignments} WHERE case_id = :c"),
        {**changes, "c": envelope.stream_id},
    )
    conn.execute(
        sa.text(
            "INSERT INTO sanctions_timeline (case_id, version, event_type, occurred_at, event_id) "
            "VALUES (:c, :v, :t, :at, :e)"
        ),
        {
            "c": envelope.stream_id,
            "v": envelope.stream_version,
            "t": envelope.event_type,
            "at": envelope.occurred_at,
            "e": envelope.event_id,
        },
    )


def _referral(conn: sa.Connection, envelope: Envelope) -> None:
    p = envelope.payload
    conn.execute(
        sa.text(
            "INSERT INTO sanctions_cases (case_id, case_number, agency, employee_name, employee_identity, employee_type, "
            "finding_level, state, version, rule_set, in_force, appeal_pending, breaches, referral, updated_at) "
            "VALUES (:c, :n, :agency, :name, CAST(:identity AS json), :type, :level, :state, 0, :rules, false, false, '[]', "
            "CAST(:referral AS json), :at)"
        ),
        {
            "c": envelope.stream_id,
            "n": p["case_number"],
            "agency": p["subject"]["agency"],
            # Sealed by intake; a referral recorded before sealing names the employee in clear.
            "name": p["subject"].get("name"),
            "identity": _json(p["subject"]["identity"]) if p["subject"].get("identity") else None,
            "type": p["subject"]["employee_type"],
            "level": p["finding"].get("level") or p["finding"]["category"],
            "state": State.REFERRED.value,
            "rules": p.get("rule_set"),
            "referral": _json(p),
            "at": envelope.occurred_at,
        },
    )


def _changes(e: Envelope, state: str) -> dict[str, Any]:
    """The columns an event sets (state as services.sanctions.domain.case.Case.state derives it)."""
    p, kind = e.payload, e.event_type
    if kind == ev.ESCALATION_REQUESTED and state == State.REFERRED:
        return {"state": State.PPK_NONCOMPLIANT.value}
    if kind == ev.DECISION_ISSUED:
        return {
            "state": State.DECIDED.value,
            "penalty": p["penalty"]["code"],
            "decided_on": _d(p["decided_on"]),
            "decision": _json(p),
        }
    if kind == ev.DECREE_ISSUED:
        return {"state": State.DECREE_ISSUED.value, "decree": _json(p)}
    if kind == ev.DECISION_DELIVERED:
        return {
            "state": State.DELIVERED.value,
            "received_on": _d(p["received_on"]),
            "in_force_on": _d(p["in_force_on"]),
            "appeal_limit": _d(p.get("appeal_limit")),
        }
    if kind in (ev.OBJECTION_FILED, ev.APPEAL_FILED):
        under = State.UNDER_KEBERATAN if kind == ev.OBJECTION_FILED else State.UNDER_BANDING
        return {"state": under.value, "appeal_pending": True}
    if kind == ev.PENALTY_SUSPENDED:
        return {"in_force": False, "execution": None}
    if kind in (ev.OBJECTION_DECIDED, ev.APPEAL_DECIDED):
        standing = p.get("penalty")
        return {
            "state": State.APPEAL_DECIDED.value,
            "appeal_pending": False,
            "in_force": False,
            "execution": None,
            "penalty": standing["code"] if standing else None,
            "in_force_on": _d(p.get("in_force_on")),
        }
    if kind == ev.PENALTY_IN_FORCE:
        return {"state": State.IN_FORCE.value, "in_force": True, "in_force_on": _d(p["in_force_on"])}
    if kind == ev.EXECUTION_STARTED:
        return {"execution": _json(p)}
    if kind == ev.PENALTY_EXECUTED:
        return {"state": State.EXECUTED.value}
    if kind == ev.CASE_CLOSED:
        return {"state": State.CLOSED.value, "closed_on": _d(p["closed_on"]), "appeal_pending": False}
    if kind == ev.LAPSE_WITHDRAWN:
        # The case as the correction restates it, its withdrawn lapses left out.
        restored = p["restored"]
        return {
            **restored,
            "in_force_on": _d(restored["in_force_on"]),
            "execution": _json(restored["execution"]) if restored["execution"] else None,
            **({} if restored["state"] == State.CLOSED else {"closed_on": None}),
        }
    return {}


def _breaches(e: Envelope, open_: list[str]) -> list[str]:
    """The obligations whose deadline lapsed unmet and that are still unmet."""
    if e.event_type == ev.DEADLINE_MISSED and e.payload["kind"] in OBLIGATIONS:
        return sorted({*open_, e.payload["kind"]})
    if e.event_type == ev.LAPSE_WITHDRAWN:
        lifted = {w["kind"] for w in e.payload["withdrawn"] if "kind" in w}
        return [kind for kind in open_ if kind not in lifted]
    met = FULFILS.get(e.event_type, ())
    return [kind for kind in open_ if kind not in met]


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


DECISION_NOT_REDERIVED = "sanctions.decision_not_rederived"


def _rederive_decision(recorded: Envelope, prior: Sequence[Envelope]) -> NewEvent:
    """The decision re-derived; if its recorded inputs are now refused (an edited event, or
    rule data changed under the same version), an event saying why, which cannot match."""
    try:
        return rederive_decision(recorded, prior, default_rule_book(), WorkingCalendar())
    except (Refused, LookupError, KeyError, AssertionError) as exc:
        at = datetime.fromisoformat(recorded.occurred_at)
        return NewEvent(DECISION_NOT_REDERIVED, {"refused": str(exc)}, at, rule_set=recorded.rule_set)


REDERIVE: Mapping[str, Callable[[Envelope, Sequence[Envelope]], NewEvent]] = {
    ev.DECISION_ISSUED: _rederive_decision
}

READ_MODEL = ReadModel(service=ev.SERVICE, tables=TABLES, project=project, rederive=REDERIVE)
