"""The services' own relay and consumer processes carry events between the services over the
real Kafka: an event of one service's store reaches the inbox of each service that consumes
its topic and nothing else reaches it, a report posted to intake opens an examination at
adjudication, and sanctions' decision moves the stage the reporting partner sees at intake."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services import adjudication, intake
from shared.clock import ManualClock, SystemClock
from shared.config import Settings
from shared.db import create_engine
from shared.envelope import Actor, Context, NewEvent
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.api.test_reports import BODY
from tests.support.events import context, event
from tests.support.processes import service_processes


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Every service's relay and consumer, as `make run` starts them, on fresh topics."""
    modules = [
        f"services.{s} {kind}"
        for s in ("intake", "adjudication", "sanctions")
        for kind in ("relay", "consumer")
    ]
    with service_processes(settings, modules, prefix="e2e") as running:
        yield running


@pytest.fixture
def apps(system: Settings) -> Iterator[tuple[Flask, Flask]]:
    """Intake's and adjudication's HTTP APIs on the system's databases."""
    intake_app = intake.create_app(system, clock=ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC)))
    adjudication_app = adjudication.create_app(
        system, clock=ManualClock(datetime(2024, 10, 21, 2, tzinfo=UTC))
    )
    yield intake_app, adjudication_app
    runtime(intake_app).close()
    runtime(adjudication_app).close()


def inbox_of(settings: Settings, service: str) -> dict[str, str]:
    engine = create_engine(settings.database_url(service))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT event_id, consumer FROM inbox")).all())
    finally:
        engine.dispose()


def events_of(settings: Settings, service: str) -> dict[str, tuple[str, str]]:
    """event_id -> (stream_id, event_type) of every event in ``service``'s own store."""
    engine = create_engine(settings.database_url(service))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT event_id, stream_id, event_type FROM events")).all()
            return {str(r.event_id): (r.stream_id, r.event_type) for r in rows}
    finally:
        engine.dispose()


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], what: str, timeout: float = 90) -> Any:
    """Poll ``read()`` until ``done`` says so; return the last reading."""
    deadline = time.monotonic() + timeout
    seen = read()
    while not done(seen) and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = read()
    assert done(seen), f"{what}: last seen {seen}"
    return seen


def test_an_intake_event_reaches_adjudication_and_intake_hears_sanctions(
    system: Settings, apps: tuple[Flask, Flask]
) -> None:
    # Routing: an event of intake's store reaches adjudication's inbox, one of sanctions'
    # store reaches intake's, and sanctions (which consumes adjudication only) gets neither.
    appended = {}
    for service in ("intake", "sanctions"):
        engine = create_engine(system.database_url(service))
        with SqlUnitOfWork(engine, SystemClock()) as uow:
            [appended[service]] = uow.events.append(
                "case-1", [event()], expected_version=0, context=context()
            )
            uow.commit()
        engine.dispose()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        adjudication, intake = inbox_of(system, "adjudication"), inbox_of(system, "intake")
        if appended["intake"].event_id in adjudication and appended["sanctions"].event_id in intake:
            break
        time.sleep(0.5)
    assert adjudication == {appended["intake"].event_id: "adjudication-inbox"}
    assert intake == {appended["sanctions"].event_id: "intake-inbox"}
    assert inbox_of(system, "sanctions") == {}  # sanctions consumes adjudication only

    # Behaviour: a partner's report becomes an opened examination at adjudication ...
    intake_app, adjudication_app = apps
    tokens = runtime(intake_app).tokens
    partner = {
        "Authorization": "Bearer "
        + tokens.create("Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan", "BAWASLU")
    }
    # A supervisor of the subject's agency: supervisors read their unit's cases (shared.scope).
    unit = BODY["subject"]["agency"]
    supervisor = {"Authorization": "Bearer " + tokens.create("sup.made", "supervisor", unit)}
    posted = intake_app.test_client().post(
        "/v1/reports", json=BODY, headers={**partner, "Idempotency-Key": "kafka-1"}
    )
    assert posted.status_code == 201, posted.get_json()
    created = posted.get_json()
    case_id = created["case_id"]
    examination = adjudication_app.test_client()
    case = wait_for(
        lambda: examination.get(f"/v1/cases/{case_id}", headers=supervisor),
        lambda answer: answer.status_code == 200,
        "the report never opened an examination at adjudication",
    ).get_json()
    assert (case["case_id"], case["case_number"], case["state"]) == (
        case_id,
        created["case_number"],
        "OPENED",
    )
    # Who the subject is travelled sealed and is opened for the supervisor, the read recorded.
    assert "nip" not in case["subject"]
    assert case["subject"]["identity"] == {"name": BODY["subject"]["name"], "nip": BODY["subject"]["nip"]}
    uses = runtime(adjudication_app).keys.uses(
        f"person/{runtime(adjudication_app).keys.blind_index('NIP:' + BODY['subject']['nip'])}"
    )
    assert [purpose for purpose, _, _ in uses] == ["read-case"]
    assert case["alleged_violations"] == BODY["alleged_violations"]
    assert [e["event_type"] for e in case["timeline"]] == [
        "adjudication.report_noted",
        "adjudication.examination_opened",
    ]

    # ... which intake hears back as the partner's stage UNDER_EXAMINATION ...
    def status() -> dict[str, Any]:
        answer = intake_app.test_client().get(f"/v1/reports/{created['report_id']}", headers=partner)
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    wait_for(status, lambda s: s["stage"] == "UNDER_EXAMINATION", "intake never heard adjudication")

    # ... and sanctions' decision on the case moves the partner's stage to DECIDED.
    sanctions = create_engine(system.database_url("sanctions"))
    with SqlUnitOfWork(sanctions, SystemClock()) as uow:
        [decided] = uow.events.append(
            case_id,
            [NewEvent("sanctions.decision_issued", {"penalty": "R1"}, datetime(2024, 11, 20, 3, tzinfo=UTC))],
            expected_version=0,
            context=Context(Actor("ppk-1", "official"), created["report_id"]),
        )
        uow.commit()
    sanctions.dispose()
    seen = wait_for(status, lambda s: s["stage"] == "DECIDED", "intake never heard sanctions")
    assert (seen["case_number"], seen["status"]) == (created["case_number"], "REGISTERED")
    assert [h["stage"] for h in seen["history"]] == ["RECEIVED", "UNDER_EXAMINATION", "DECIDED"]

    # Each inbox holds exactly what its service consumes: intake's topic at adjudication,
    # adjudication's at sanctions, adjudication's and sanctions' at intake.
    # (intake's own stage events reach adjudication too, the last of them shortly after.)
    wait_for(
        lambda: (set(inbox_of(system, "adjudication")), set(events_of(system, "intake"))),
        lambda seen: seen[0] == seen[1],
        "adjudication's inbox never caught up with intake's store",
    )
    stores = {s: events_of(system, s) for s in ("intake", "adjudication", "sanctions")}
    inboxes = {s: inbox_of(system, s) for s in stores}
    assert set(inboxes["adjudication"]) == set(stores["intake"])
    assert set(inboxes["adjudication"].values()) == {"adjudication-inbox"}
    assert decided.event_id in inboxes["intake"]
    assert set(inboxes["intake"]) <= set(stores["adjudication"]) | set(stores["sanctions"])
    assert set(inboxes["sanctions"]) <= set(stores["adjudication"])
    [opened] = [
        e["event_id"] for e in case["timeline"] if e["event_type"] == "adjudication.examination_opened"
    ]
    assert opened in inboxes["intake"]
