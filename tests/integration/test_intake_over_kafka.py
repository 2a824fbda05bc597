"""Intake over the real Kafka: a registered case reaches `intake.case-events`, and a later
sanctions event changes the stage the reporting partner sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from services.intake import create_app
from shared.clock import ManualClock, SystemClock
from shared.config import Settings
from shared.db import create_engine
from shared.envelope import Actor, Context, NewEvent
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.api.test_reports import BODY
from tests.support.kafka import read_topic
from tests.support.processes import service_processes


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Intake's relay and consumer and sanctions' relay, as `make run` starts them."""
    modules = ["services.intake relay", "services.intake consumer", "services.sanctions relay"]
    with service_processes(settings, modules, prefix="ik") as running:
        yield running


@pytest.fixture
def intake(system: Settings) -> Iterator[Flask]:
    app = create_app(system, clock=ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC)))
    yield app
    runtime(app).close()


def test_a_registered_case_is_published_and_a_sanctions_decision_moves_the_partners_stage(
    intake: Flask, system: Settings
) -> None:
    token = runtime(intake).tokens.create(
        "Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan", "BAWASLU"
    )
    partner = {"Authorization": f"Bearer {token}"}
    client = intake.test_client()
    created = client.post(
        "/v1/reports", json=BODY, headers={**partner, "Idempotency-Key": "e2e-1"}
    ).get_json()
    case_id = created["case_id"]

    def registered(records: list) -> bool:
        return any(json.loads(r.value)["event_type"] == "intake.case_registered" for r in records)

    published = read_topic(system.kafka_bootstrap, system.topic("intake"), until=registered, timeout=60)
    [event] = [
        json.loads(r.value)
        for r in published
        if json.loads(r.value)["event_type"] == "intake.case_registered"
    ]
    assert (event["stream_id"], event["payload"]["case_number"]) == (case_id, created["case_number"])

    sanctions = create_engine(system.database_url("sanctions"))
    with SqlUnitOfWork(sanctions, SystemClock()) as uow:
        decided = NewEvent(
            "sanctions.decision_issued", {"penalty": "R1"}, occurred_at=datetime(2024, 11, 20, 3, tzinfo=UTC)
        )
        uow.events.append(
            case_id,
            [decided],
            expected_version=0,
            context=Context(Actor("ppk-1", "official"), created["report_id"]),
        )
        uow.commit()
    sanctions.dispose()

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = client.get(f"/v1/reports/{created['report_id']}", headers=partner).get_json()
        if status["stage"] == "DECIDED":
            break
        time.sleep(0.5)
    assert status["stage"] == "DECIDED"
    assert [h["stage"] for h in status["history"]] == ["RECEIVED", "DECIDED"]
