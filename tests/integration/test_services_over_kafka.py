"""The services' own relay and consumer processes carry an event from one service's store
to another's inbox over the real Kafka, and nothing else reaches it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from shared.clock import SystemClock
from shared.config import Settings
from shared.db import create_engine
from shared.uow import SqlUnitOfWork
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


def inbox_of(settings: Settings, service: str) -> dict[str, str]:
    engine = create_engine(settings.database_url(service))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT event_id, consumer FROM inbox")).all())
    finally:
        engine.dispose()


def test_an_intake_event_reaches_adjudication_and_intake_hears_sanctions(system: Settings) -> None:
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
