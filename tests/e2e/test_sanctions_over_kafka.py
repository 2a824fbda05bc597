"""Sanctions driven from a real ``adjudication.case_referred`` record on the real Kafka: the
official rules over HTTP, the service's scheduler moves the case with a moved clock, and the
reporting partner sees the stage change at intake as sanctions' events arrive there."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services import intake, sanctions
from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.bus import dlq_topic, make_producer
from shared.clock import ManualClock
from shared.config import Settings
from shared.web.runtime import runtime
from tests.api.test_sanctions_support import referral, referred_envelope, scheduler
from tests.support.kafka import read_topic
from tests.support.processes import service_processes

SHA = "e" * 64


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Sanctions' consumer and relay, and intake's consumer, as `make run` starts them."""
    modules = ["services.sanctions consumer", "services.sanctions relay", "services.intake consumer"]
    with service_processes(settings, modules, prefix="sx") as running:
        yield running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 12, 9, 3, tzinfo=UTC))


@pytest.fixture
def apps(system: Settings, clock: ManualClock) -> Iterator[tuple[Flask, Flask]]:
    intake_app = intake.create_app(system, clock=ManualClock(datetime(2024, 10, 14, 2, tzinfo=UTC)))
    sanctions_app = sanctions.create_app(system, clock=clock)
    yield intake_app, sanctions_app
    runtime(intake_app).close()
    runtime(sanctions_app).close()


def publish_referral(system: Settings, case_id: str, payload: dict[str, Any]) -> str:
    """Produce the referral on adjudication's topic as its relay would: keyed by the case id."""
    envelope = referred_envelope(case_id, payload, datetime(2024, 11, 25, 2, tzinfo=UTC))
    producer = make_producer(system.kafka_bootstrap, "test-adjudication")
    try:
        producer.send(system.topic("adjudication"), key=case_id.encode(), value=envelope.to_bytes()).get(30)
    finally:
        producer.close()
    return envelope.event_id


def wait_for(client: FlaskClient, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = client.get(f"/v1/cases/{case_id}", headers=headers)
        if answer.status_code == 200:
            return dict(answer.get_json())
        time.sleep(0.3)
    raise AssertionError(f"the referral of {case_id} never reached sanctions")


def test_a_referral_on_kafka_is_ruled_on_to_closure_and_a_broken_one_is_parked(
    system: Settings, apps: tuple[Flask, Flask], clock: ManualClock
) -> None:
    intake_app, sanctions_app = apps
    tokens = runtime(sanctions_app).tokens
    partner_token = tokens.create("Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan", "BAWASLU")
    partner = {"Authorization": f"Bearer {partner_token}"}
    posted = intake_app.test_client().post(
        "/v1/reports", json=CONTRACT_EXAMPLE, headers={**partner, "Idempotency-Key": "e2e-sx-1"}
    )
    assert posted.status_code == 201, posted.get_json()
    created = posted.get_json()
    case_id, case_number = created["case_id"], created["case_number"]
    assert created["status"] == "REGISTERED" and case_number.startswith("NTR-2024-")
    # The referral adjudication would publish for this case carries the number intake gave it.
    payload = {**referral("BERAT"), "case_number": case_number}
    official_token = tokens.create(
        "kepala.bkpsdm",
        "official",
        agency=payload["subject"]["agency"],
        offices=[payload["deciding_official"]["official"]],
    )
    official = {"Authorization": f"Bearer {official_token}"}
    referral_id = publish_referral(system, case_id, payload)
    # A referral failing its schema, for another case, is parked and holds back nothing else.
    broken = referral("BERAT")
    del broken["finding"]
    publish_referral(system, "5d1e3a52-0000-4000-8000-000000000001", broken)

    client = sanctions_app.test_client()
    case = wait_for(client, official, case_id)
    assert (case["state"], case["case_number"]) == ("REFERRED", case_number)
    assert case["referral"]["case_number"] == case_number

    def do(action: str, body: dict[str, Any]) -> dict[str, Any]:
        version = client.get(f"/v1/cases/{case_id}", headers=official).headers["ETag"]
        answer = client.post(
            f"/v1/cases/{case_id}/{action}", json=body, headers={**official, "If-Match": version}
        )
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    do("decision", {"penalty": "B2", "decided_on": "2024-12-09"})
    do("decree", {"number": "800/77/BKPSDM/2024", "issued_on": "2024-12-09", "document_sha256": SHA})
    clock.set(datetime(2024, 12, 12, 3, tzinfo=UTC))
    do("delivery", {"received_on": "2024-12-12"})
    clock.set(datetime(2025, 1, 7, 3, tzinfo=UTC))
    assert scheduler(sanctions_app).run_once() == 2  # in force on 27 Dec; the window closed on 6 Jan
    clock.set(datetime(2025, 12, 29, 3, tzinfo=UTC))
    assert do("execution/completion", {"completed_on": "2025-12-26"})["state"] == "CLOSED"

    def closed(records: list[Any]) -> bool:
        return any(json.loads(r.value)["event_type"] == "sanctions.case_closed" for r in records)

    published = [
        json.loads(r.value)
        for r in read_topic(system.kafka_bootstrap, system.topic("sanctions"), until=closed, timeout=60)
    ]
    assert [e["event_type"] for e in published if e["stream_id"] == case_id] == [
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
    assert published[0]["causation_id"] == referral_id
    assert published[1]["payload"]["inputs"]["referral_event_id"] == referral_id
    assert published[1]["payload"]["case_number"] == case_number  # the decision names intake's number
    # Officials find the closed case under intake's number; it is the only case with it.
    listed = client.get("/v1/cases?state=CLOSED", headers=official).get_json()
    assert [(c["case_id"], c["case_number"]) for c in listed] == [(case_id, case_number)]
    assert client.get(f"/v1/cases/{case_id}", headers=official).get_json()["case_number"] == case_number

    report = f"/v1/reports/{created['report_id']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = intake_app.test_client().get(report, headers=partner).get_json()
        if status["stage"] == "CLOSED":
            break
        time.sleep(0.5)
    assert status["stage"] == "CLOSED"
    assert [h["stage"] for h in status["history"]] == ["RECEIVED", "DECIDED", "IN_FORCE", "CLOSED"]
    assert (status["case_id"], status["case_number"]) == (case_id, case_number)

    parked = read_topic(
        system.kafka_bootstrap, dlq_topic(system.topic("adjudication")), until=bool, timeout=60
    )
    [record] = parked
    reason = dict(record.headers)["netra-reason"].decode()
    assert (
        reason.startswith("adjudication.case_referred: the referral fails its schema") and "finding" in reason
    )
