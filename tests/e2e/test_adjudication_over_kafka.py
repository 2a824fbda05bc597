"""A report posted to intake reaches adjudication over the real Kafka, is worked to a finding
through adjudication's HTTP API, and the referral appears on ``adjudication.case-events``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services import adjudication, intake
from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.clock import ManualClock
from shared.config import Settings
from shared.web.runtime import runtime
from tests.support.kafka import read_topic
from tests.support.processes import service_processes


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Intake's relay, adjudication's consumer and relay, as `make run` starts them."""
    modules = ["services.intake relay", "services.adjudication consumer", "services.adjudication relay"]
    with service_processes(settings, modules, prefix="adj") as running:
        yield running


@pytest.fixture
def apps(system: Settings) -> Iterator[tuple[Flask, Flask]]:
    intake_app = intake.create_app(system, clock=ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC)))
    adjudication_app = adjudication.create_app(
        system, clock=ManualClock(datetime(2024, 10, 21, 2, tzinfo=UTC))
    )
    yield intake_app, adjudication_app
    runtime(intake_app).close()
    runtime(adjudication_app).close()


def wait_for_case(
    client: FlaskClient, headers: dict[str, str], case_id: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/cases/{case_id}", headers=headers)
        if response.status_code == 200:
            return dict(response.get_json())
        time.sleep(0.3)
    raise AssertionError(f"case {case_id} never reached adjudication")


def test_a_reported_case_is_examined_and_referred_over_kafka(
    system: Settings, apps: tuple[Flask, Flask]
) -> None:
    intake_app, adjudication_app = apps
    adjudication_clock = runtime(adjudication_app).clock
    assert isinstance(adjudication_clock, ManualClock)
    tokens = runtime(adjudication_app).tokens
    partner = {
        "Authorization": "Bearer "
        + tokens.create("Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan", "BAWASLU")
    }
    # A supervisor of the subject's agency: supervisors read their unit's cases (shared.scope).
    unit = CONTRACT_EXAMPLE["subject"]["agency"]
    supervisor = {"Authorization": "Bearer " + tokens.create("sup.made", "supervisor", unit)}
    investigator = {"Authorization": "Bearer " + tokens.create("inv.putu", "investigator")}

    created = (
        intake_app.test_client()
        .post("/v1/reports", json=CONTRACT_EXAMPLE, headers={**partner, "Idempotency-Key": "e2e-adj-1"})
        .get_json()
    )
    case_id = created["case_id"]
    client = adjudication_app.test_client()
    case = wait_for_case(client, supervisor, case_id)
    assert (case["case_number"], case["state"]) == (created["case_number"], "OPENED")
    assert case["subject"]["position_kind"] == "ADMINISTRATOR" and case["alleged_violations"] == ["N2"]

    version = case["version"]

    def do(headers: dict[str, str], action: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal version
        response = client.post(
            f"/v1/cases/{case_id}/{action}", json=body, headers={**headers, "If-Match": f'"{version}"'}
        )
        assert response.status_code == 200, response.get_json()
        answer = dict(response.get_json())
        version = answer["version"]
        return answer

    do(supervisor, "assignment", {"investigator_id": "inv.putu"})
    summoned = do(
        investigator,
        "summons",
        {
            "letter_number": "S-1",
            "letter_date": "2024-10-21",
            "examination_date": "2024-10-25",
            "signed_by": "Kepala Dinas",
        },
    )
    assert summoned["state"] == "SUMMONS_1_ISSUED"
    do(
        investigator,
        "examiner",
        {
            "mode": "ATASAN_LANGSUNG",
            "members": [{"name": "Kadis", "role": "ATASAN_LANGSUNG"}],
            "appointed_on": "2024-10-21",
        },
    )
    do(investigator, "attendance", {"examined_on": "2024-10-25", "mode": "VIRTUAL"})
    do(
        investigator,
        "bap",
        {
            "document_uri": "https://dms.example/bap.pdf",
            "sha256": "ab" * 32,
            "signed_on": "2024-10-25",
            "signed_by_subject": True,
        },
    )
    adjudication_clock.set(datetime(2024, 10, 28, 2, tzinfo=UTC))  # the finding follows the BAP
    referred = do(
        investigator,
        "finding",
        {"proven": True, "reasoning": "screenshots and BAP", "violations": [{"code": "N2"}]},
    )
    assert referred["state"] == "REFERRED"

    def has_referral(records: list[Any]) -> bool:
        return any(json.loads(r.value)["event_type"] == "adjudication.case_referred" for r in records)

    published = [
        json.loads(r.value)
        for r in read_topic(
            system.kafka_bootstrap, system.topic("adjudication"), until=has_referral, timeout=60
        )
    ]
    types = [e["event_type"] for e in published if e["stream_id"] == case_id]
    assert types[:3] == [
        "adjudication.report_noted",
        "adjudication.examination_opened",
        "adjudication.investigator_assigned",
    ]
    [referral] = [e for e in published if e["event_type"] == "adjudication.case_referred"]
    payload = referral["payload"]
    assert payload["case_number"] == created["case_number"]
    assert payload["subject"]["agency_level"] == "PROVINCIAL"
    assert (payload["finding"]["category"], payload["finding"]["level"]) == ("DISIPLIN", "SEDANG")
    assert payload["deciding_official"]["official"] == "JPT_MADYA"
    assert payload["election"] == {"type": "PILKADA_BUP", "year": 2024}
    assert referral["causation_id"] == payload["finding"]["finding_event_id"]
