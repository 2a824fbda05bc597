"""Fixtures for the sanctions API and e2e tests (no tests here; named test_* to sit among
the sanctions test files): an app on fresh databases, officials' tokens, and a
referral fed to the consumer's handler as adjudication would publish it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from services.sanctions import create_app
from services.sanctions.bootstrap import WIRING
from services.sanctions.handlers import on_case_referred
from services.sanctions.store.readmodel import READ_MODEL
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine
from shared.deadlines import DeadlineScheduler
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.conftest import NewDatabase
from tests.unit.sanctions.support import AGENCY, referral

__all__ = ["AGENCY", "referral"]


@pytest.fixture
def sanctions_clock() -> ManualClock:
    """10 Dec 2024, 10:00 WIB: the day after sample case C's decision."""
    return ManualClock(datetime(2024, 12, 10, 3, 0, tzinfo=UTC))


@pytest.fixture
def sanctions(new_database: NewDatabase, tmp_path: Path, sanctions_clock: ManualClock) -> Iterator[Flask]:
    urls = {
        "sanctions": new_database("sanctions"),
        "auth": new_database("auth"),
        "keyring": new_database("keyring"),
    }
    app = create_app(Settings(home=tmp_path, database_urls=urls, log_format="text"), clock=sanctions_clock)
    yield app
    runtime(app).close()


# The office of ``referral()``'s deciding official: the default official signs in it.
OFFICE = "PPK_KABUPATEN_KOTA"


@pytest.fixture
def token_for(sanctions: Flask) -> Callable[..., dict[str, str]]:
    def make(
        role: str = "official",
        agency: str | None = AGENCY,
        who: str = "kepala.bkpsdm",
        offices: tuple[str, ...] | None = None,
    ) -> dict[str, str]:
        """A bearer header; an official holds ``OFFICE`` unless ``offices`` says otherwise."""
        held = offices if offices is not None else (OFFICE,) if role == "official" else ()
        token = runtime(sanctions).tokens.create(
            who, role, agency=agency, channel="BAWASLU" if role == "partner" else None, offices=held
        )
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def official(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for()


def referred_envelope(case_id: str, payload: dict[str, Any], on: datetime) -> Envelope:
    """``adjudication.case_referred`` sealed as adjudication's store would seal it."""
    return seal(
        NewEvent("adjudication.case_referred", payload, on),
        stream_id=case_id,
        stream_version=7,
        prev_hash=GENESIS_HASH,
        context=Context(Actor("adjudication-supervisor", "supervisor"), correlation_id="report-1"),
        recorded_at=on,
    )


def refer(app: Flask, payload: dict[str, Any] | None = None, on: datetime | None = None) -> str:
    """Hand a referral to the consumer's handler, as the inbox would; return the case id."""
    case_id = str(uuid.uuid4())
    rt = runtime(app)
    envelope = referred_envelope(
        case_id, payload or referral("BERAT"), on or datetime(2024, 11, 25, 2, tzinfo=UTC)
    )
    with SqlUnitOfWork(rt.engine, rt.clock) as uow:
        on_case_referred(envelope, uow)
        uow.commit()
    return case_id


def scheduler(app: Flask) -> DeadlineScheduler:
    """The service's own deadline scheduler on the app's database and clock."""
    rt = runtime(app)
    assert WIRING.on_deadline_missed is not None
    return DeadlineScheduler(rt.engine, rt.clock, WIRING.on_deadline_missed, "sanctions")


def command(
    client: FlaskClient, headers: dict[str, str], case_id: str, action: str, body: Any, version: int | None
) -> Any:
    """POST a command with If-Match naming ``version`` (none when None)."""
    match = {} if version is None else {"If-Match": f'"{version}"'}
    return client.post(f"/v1/cases/{case_id}/{action}", json=body, headers={**headers, **match})


def js(response: Any) -> Any:
    """The JSON body of a test-client response (typed Any for indexing)."""
    return response.get_json()


def rebuilt_read_models_match(app: Flask, new_database: NewDatabase) -> list[Envelope]:
    """Project every stored event into a scratch database and assert its read models equal the
    live ones; return the events (in log order) for further checks."""
    live, scratch = runtime(app).engine, create_engine(new_database("sanctions"))
    try:
        with live.connect() as conn:
            rows = conn.execute(sa.text("SELECT envelope FROM events ORDER BY position")).scalars()
            envelopes = [Envelope.from_bytes(r.encode()) for r in rows]
        with scratch.begin() as conn:
            for envelope in envelopes:
                READ_MODEL.project(conn, envelope)
        for table in READ_MODEL.tables:
            query = sa.text(f"SELECT * FROM {table} ORDER BY 1, 2")
            with live.connect() as a, scratch.connect() as b:
                assert [tuple(map(str, r)) for r in a.execute(query)] == [
                    tuple(map(str, r)) for r in b.execute(query)
                ]
    finally:
        scratch.dispose()
    return envelopes
