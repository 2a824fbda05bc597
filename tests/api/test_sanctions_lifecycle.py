"""A case through the API and the service's own deadline scheduler with a moved clock:
decision, decree, delivery, in force, execution, closure; a keberatan suspending a penalty
in force; a PPK who does not act; and the overdue filter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.sanctions.store.readmodel import READ_MODEL
from shared.clock import ManualClock
from shared.envelope import canonical_json
from tests.api.test_sanctions_support import command, js, rebuilt_read_models_match, refer, scheduler

pytest_plugins = ("tests.api.test_sanctions_support",)


@pytest.fixture
def client(sanctions: Flask) -> FlaskClient:
    """The sanctions app's client (tests/api/conftest.py's ``client`` is intake's)."""
    return sanctions.test_client()


SHA = "d" * 64


def at(day: str) -> datetime:
    """10:00 WIB on ``day``."""
    return datetime.fromisoformat(f"{day}T03:00:00+00:00")


def case(client: FlaskClient, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    answer = client.get(f"/v1/cases/{case_id}", headers=headers)
    assert answer.status_code == 200, js(answer)
    body: dict[str, Any] = js(answer)
    # The read model (projected) and the fold of the events agree on the state.
    [row] = [c for c in js(client.get("/v1/cases", headers=headers)) if c["case_id"] == case_id]
    assert row["state"] == body["state"]
    return body


def step(
    client: FlaskClient, headers: dict[str, str], case_id: str, action: str, body: dict[str, Any]
) -> Any:
    version = case(client, headers, case_id)["version"]
    answer = command(client, headers, case_id, action, body, version)
    assert answer.status_code == 200, js(answer)
    return js(answer)


def test_sample_case_c_from_referral_to_closure(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    case_id = refer(sanctions)
    step(client, official, case_id, "decision", {"penalty": "B2", "decided_on": "2024-12-09"})
    step(
        client,
        official,
        case_id,
        "decree",
        {"number": "800/77/BKPSDM/2024", "issued_on": "2024-12-09", "document_sha256": SHA},
    )
    sanctions_clock.set(at("2024-12-12"))
    done = step(client, official, case_id, "delivery", {"received_on": "2024-12-12"})
    assert done["allowed_actions"] == ["objection"]
    # A banding against B2 is refused naming the route the law gives it, with the article.
    banding = command(client, official, case_id, "appeal", {"filed_on": "2024-12-13"}, done["version"])
    assert banding.status_code == 409
    assert js(banding)["rules"][0]["rule"].startswith("APPEAL_ROUTE_KEBERATAN (PP 79/2021 Ps 3-9")
    body = case(client, official, case_id)
    assert (body["in_force_on"], body["appeal_limit"]) == ("2024-12-27", "2025-01-06")
    kinds = {d["kind"]: (d["due_on"], d["status"]) for d in body["deadlines"]}
    assert kinds["delivery"] == ("2024-12-31", "MET")
    assert kinds["takes_effect"] == ("2024-12-26", "PENDING")
    # The window's last day is the 26th; it lapses into force on the 27th, as in_force_on says.
    assert {d["kind"]: d["lapses_on"] for d in body["deadlines"]}["takes_effect"] == body["in_force_on"]

    sanctions_clock.set(at("2024-12-26"))
    assert scheduler(sanctions).run_once() == 0  # 26 Dec is still the last day before force
    sanctions_clock.set(at("2024-12-27"))
    assert scheduler(sanctions).run_once() == 1
    body = case(client, official, case_id)
    assert (body["state"], body["in_force"]) == ("IN_FORCE", True)
    assert body["execution"]["end_on"] == "2025-12-26"
    in_force = js(client.get("/v1/cases", query_string={"in_force": "true"}, headers=official))
    assert [c["case_id"] for c in in_force] == [case_id]

    sanctions_clock.set(at("2025-01-07"))
    assert scheduler(sanctions).run_once() == 1  # the keberatan window closed
    # Windows that ran out are no one's breach: EXPIRED, not MISSED.
    closed = case(client, official, case_id)
    statuses = {d["kind"]: d["status"] for d in closed["deadlines"]}
    assert (statuses["takes_effect"], statuses["appeal_window"], closed["breaches"]) == (
        "EXPIRED",
        "EXPIRED",
        [],
    )
    # A keberatan can still be recorded, as tidak dapat diterima.
    assert case(client, official, case_id)["allowed_actions"] == ["objection", "execution/completion"]
    sanctions_clock.set(at("2025-12-29"))
    done = step(client, official, case_id, "execution/completion", {"completed_on": "2025-12-26"})
    assert done["events"] == ["sanctions.penalty_executed", "sanctions.case_closed"]
    body = case(client, official, case_id)
    assert (body["state"], body["closed_on"], body["allowed_actions"]) == ("CLOSED", "2025-12-26", [])
    assert [t["event_type"] for t in body["timeline"]] == [
        "sanctions.referral_received",
        "sanctions.decision_issued",
        "sanctions.decree_issued",
        "sanctions.decision_delivered",
        "sanctions.penalty_in_force",
        "sanctions.execution_started",
        "sanctions.appeal_window_closed",
        "sanctions.penalty_executed",
        "sanctions.case_closed",
    ]


def test_a_keberatan_inside_the_window_suspends_the_penalty_in_force_until_decided(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    case_id = refer(sanctions)
    step(client, official, case_id, "decision", {"penalty": "B2", "decided_on": "2024-12-09"})
    step(
        client,
        official,
        case_id,
        "decree",
        {"number": "800/1", "issued_on": "2024-12-09", "document_sha256": SHA},
    )
    sanctions_clock.set(at("2024-12-12"))
    step(client, official, case_id, "delivery", {"received_on": "2024-12-12"})
    sanctions_clock.set(at("2025-01-03"))
    scheduler(sanctions).run_once()
    assert case(client, official, case_id)["in_force"] is True
    done = step(client, official, case_id, "objection", {"filed_on": "2025-01-03"})
    assert done["events"] == ["sanctions.objection_filed", "sanctions.penalty_suspended"]
    body = case(client, official, case_id)
    assert (body["state"], body["in_force"], body["appeal_pending"]) == ("UNDER_KEBERATAN", False, True)
    pending = js(client.get("/v1/cases", query_string={"appeal_pending": "true"}, headers=official))
    assert [c["case_id"] for c in pending] == [case_id]
    sanctions_clock.set(at("2025-01-07"))
    assert scheduler(sanctions).run_once() == 0  # the window timer was met by the filing
    # A 409 names the allowed actions as the requests to make: their paths.
    early = command(
        client, official, case_id, "execution/completion", {"completed_on": "2025-01-07"}, body["version"]
    )
    assert early.status_code == 409
    assert (js(early)["state"], js(early)["allowed_actions"]) == ("UNDER_KEBERATAN", ["objection/decision"])
    assert js(early)["message"].startswith("execution/completion is not allowed")
    refused = command(
        client,
        official,
        case_id,
        "objection/decision",
        {"ruling": "LIGHTEN", "decided_on": "2025-01-07", "penalty": "B3"},
        body["version"],
    )
    assert refused.status_code == 422 and "lighter than B2" in js(refused)["errors"]["penalty"][0]
    done = step(
        client,
        official,
        case_id,
        "objection/decision",
        {"ruling": "LIGHTEN", "decided_on": "2025-01-07", "penalty": "B1"},
    )
    assert done["events"] == [
        "sanctions.objection_decided",
        "sanctions.penalty_in_force",
        "sanctions.execution_started",
    ]
    body = case(client, official, case_id)
    assert (body["penalty"], body["state"], body["in_force_on"]) == ("B1", "IN_FORCE", "2025-01-07")


def test_a_ppk_who_does_not_act_is_escalated_when_the_clock_passes_the_follow_up_deadline(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    sanctions_clock.set(at("2024-11-25"))
    case_id = refer(sanctions, on=at("2024-11-25"))
    assert case(client, official, case_id)["deadlines"][0]["due_on"] == "2024-12-09"
    sanctions_clock.set(at("2024-12-09"))
    assert scheduler(sanctions).run_once() == 0
    sanctions_clock.advance(timedelta(days=1))
    assert scheduler(sanctions).run_once() == 1
    assert scheduler(sanctions).run_once() == 0  # recorded once
    body = case(client, official, case_id)
    assert body["state"] == "PPK_NONCOMPLIANT"
    assert [t["event_type"] for t in body["timeline"]][1:] == [
        "sanctions.deadline_missed",
        "sanctions.escalation_requested",
        "sanctions.escalation_requested",
    ]
    events = js(client.get(f"/v1/cases/{case_id}/events", headers=official))
    actions = [e["envelope"]["payload"]["action"] for e in events[2:]]
    assert actions == ["SIASN_DATA_BLOCK", "PYBM_SANCTION"]
    assert all(e["envelope"]["actor"]["id"] == "sanctions-scheduler" for e in events[1:])
    overdue = js(client.get("/v1/cases", query_string={"overdue": "true"}, headers=official))
    assert [c["case_id"] for c in overdue] == [case_id]
    # A late decision is still possible, and it ends the breach.
    step(client, official, case_id, "decision", {"penalty": "B2", "decided_on": "2024-12-10"})
    assert js(client.get("/v1/cases", query_string={"overdue": "true"}, headers=official)) == []


def test_a_lapsed_delivery_is_overdue_before_and_after_the_scheduler_records_it(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    case_id = refer(sanctions)
    step(client, official, case_id, "decision", {"penalty": "B2", "decided_on": "2024-12-09"})

    def overdue() -> list[str]:
        return [
            c["case_id"]
            for c in js(client.get("/v1/cases", query_string={"overdue": "true"}, headers=official))
        ]

    sanctions_clock.set(at("2024-12-31"))
    assert overdue() == []
    sanctions_clock.set(at("2025-01-01"))
    assert overdue() == [case_id]  # lapsed, not yet recorded
    scheduler(sanctions).run_once()
    assert case(client, official, case_id)["breaches"] == ["delivery"]
    assert overdue() == [case_id]
    step(
        client,
        official,
        case_id,
        "decree",
        {"number": "800/2", "issued_on": "2024-12-09", "document_sha256": SHA},
    )
    step(client, official, case_id, "delivery", {"received_on": "2025-01-01", "method": "MAIL"})
    assert overdue() == []
    assert (
        js(client.get(f"/v1/cases/{case_id}/events", headers=official))[-1]["envelope"]["payload"]["late"]
        is True
    )


def test_the_read_models_rebuilt_from_the_events_alone_match_the_live_ones(
    sanctions: Flask,
    client: FlaskClient,
    official: dict[str, str],
    sanctions_clock: ManualClock,
    new_database: Any,
) -> None:
    case_id = refer(sanctions)
    step(client, official, case_id, "decision", {"penalty": "B3", "decided_on": "2024-12-09"})
    step(
        client,
        official,
        case_id,
        "decree",
        {"number": "1", "issued_on": "2024-12-09", "document_sha256": SHA},
    )
    sanctions_clock.set(at("2024-12-12"))
    step(client, official, case_id, "delivery", {"received_on": "2024-12-12"})
    sanctions_clock.set(at("2024-12-13"))
    step(client, official, case_id, "appeal", {"filed_on": "2024-12-13"})
    sanctions_clock.set(at("2025-03-03"))
    assert scheduler(sanctions).run_once() == 1  # the PPK's answer to BPASN lapsed: a breach
    assert js(client.get(f"/v1/cases/{case_id}", headers=official))["breaches"] == ["ppk_answer"]
    step(
        client,
        official,
        case_id,
        "appeal/decision",
        {"ruling": "LIGHTEN", "penalty": "B2", "decided_on": "2025-03-03"},
    )
    envelopes = rebuilt_read_models_match(sanctions, new_database)
    decision = next(e for e in envelopes if e.event_type == "sanctions.decision_issued")
    prior = [e for e in envelopes if e.stream_id == case_id and e.stream_version < decision.stream_version]
    rederived = READ_MODEL.rederive["sanctions.decision_issued"](decision, prior)
    assert canonical_json(dict(rederived.payload)) == canonical_json(dict(decision.payload))
    assert js(client.get(f"/v1/cases/{case_id}", headers=official))["breaches"] == []
