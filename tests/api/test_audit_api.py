"""The auditor app: auditors read any case's history across services; everyone else is
refused; every read is itself recorded as a hash-chained event in the audit store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from netra.audit.verify import verify_auditor_reads
from netra.audit_app import create_app
from shared.clock import ManualClock
from shared.config import Settings
from shared.uow import SqlUnitOfWork
from shared.verify import verify_store
from shared.web.runtime import runtime
from tests.conftest import KafkaBroker, NewDatabase
from tests.support.events import context, event


@pytest.fixture
def audit_settings(kafka: KafkaBroker, new_database: NewDatabase, tmp_path: Path) -> Settings:
    urls = {
        name: new_database(name)
        for name in ("intake", "adjudication", "sanctions", "auth", "keyring", "audit")
    }
    # A topic prefix of its own: verify reads the audit topic, which no other test may fill.
    prefix = f"aa{uuid.uuid4().hex[:6]}."
    return Settings(
        home=tmp_path,
        database_urls=urls,
        kafka_bootstrap=kafka.bootstrap,
        log_format="text",
        topic_prefix=prefix,
    )


@pytest.fixture
def app(audit_settings: Settings, clock: ManualClock) -> Iterator[Flask]:
    built = create_app(audit_settings, clock=clock)
    yield built
    runtime(built).close()


@pytest.fixture
def case_id(audit_settings: Settings, clock: ManualClock) -> str:
    case = str(uuid.uuid4())
    for service in ("intake", "adjudication"):
        clock.advance(timedelta(seconds=1))
        engine = sa.create_engine(audit_settings.database_url(service))
        with SqlUnitOfWork(engine, clock) as uow:
            uow.events.append(case, [event(f"{service}.something")], expected_version=0, context=context())
            uow.commit()
        engine.dispose()
    return case


def bearer(app: Flask, role: str) -> dict[str, str]:
    token = runtime(app).tokens.create(
        f"{role}-1",
        role,
        agency="X" if role == "partner" else None,
        channel="BAWASLU" if role == "partner" else None,
    )
    return {"Authorization": f"Bearer {token}"}


def reads(app: Flask) -> list[Any]:
    with runtime(app).engine.connect() as conn:
        query = sa.text("SELECT stream_id, event_type, envelope FROM events ORDER BY position")
        return list(conn.execute(query))


def test_an_auditor_reads_a_case_across_services_and_the_read_is_recorded(app: Flask, case_id: str) -> None:
    response = app.test_client().get(f"/v1/audit/cases/{case_id}/history", headers=bearer(app, "auditor"))
    assert response.status_code == 200, response.json
    body: Any = response.json
    assert [e["service"] for e in body["events"]] == ["intake", "adjudication"]
    [read] = reads(app)
    assert (read.stream_id, read.event_type) == ("auditor:auditor-1", "audit.case_history_read")
    assert case_id in read.envelope
    assert verify_store(runtime(app).engine).ok


def test_as_of_before_anything_happened_gives_no_events_and_is_recorded(app: Flask, case_id: str) -> None:
    client, headers = app.test_client(), bearer(app, "auditor")
    response = client.get(
        f"/v1/audit/cases/{case_id}/history?as_of=2000-01-01T00:00:00%2B07:00", headers=headers
    )
    body: Any = response.json
    assert response.status_code == 200 and body["events"] == []
    assert '"as_of":"2000-01-01T00:00:00+07:00"' in reads(app)[0].envelope


def test_every_other_role_is_refused_and_nothing_is_recorded(app: Flask, case_id: str) -> None:
    for role in ("partner", "investigator", "supervisor", "official", "admin"):
        response = app.test_client().get(f"/v1/audit/cases/{case_id}/history", headers=bearer(app, role))
        assert response.status_code == 403, role
    assert reads(app) == []


def test_no_token_is_401_an_unknown_case_404_and_a_bad_instant_422(app: Flask, case_id: str) -> None:
    client, headers = app.test_client(), bearer(app, "auditor")
    assert client.get(f"/v1/audit/cases/{case_id}/history").status_code == 401
    assert client.get(f"/v1/audit/cases/{uuid.uuid4()}/history", headers=headers).status_code == 404
    for bad in ("yesterday", "2024-11-01T00:00:00"):
        answer = client.get(f"/v1/audit/cases/{case_id}/history?as_of={bad}", headers=headers)
        assert answer.status_code == 422, (bad, answer.json)
    assert client.get(f"/v1/audit/cases/{case_id}/history?time=later", headers=headers).status_code == 422


def test_the_auditor_app_has_no_endpoint_that_changes_anything(app: Flask) -> None:
    methods = {
        m for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/") for m in rule.methods or ()
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}


def test_audit_verify_also_walks_the_record_of_auditor_reads_and_names_an_edited_one(
    app: Flask, case_id: str, audit_settings: Settings
) -> None:
    app.test_client().get(f"/v1/audit/cases/{case_id}/history", headers=bearer(app, "auditor"))
    clean = verify_auditor_reads(audit_settings)
    # No relay ran here (tests/integration/test_audit_reads_published.py runs it): the read
    # waits to be published, which is not a flaw.
    assert clean is not None and clean.ok and (clean.events, clean.pending) == (1, 1)
    with runtime(app).engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        conn.execute(sa.text("UPDATE events SET envelope = replace(envelope, 'auditor-1', 'auditor-2')"))
    edited = verify_auditor_reads(audit_settings)
    assert edited is not None and not edited.ok
    assert "audit position 1" in str(edited.findings[0]) and "edited" in str(edited.findings[0])
