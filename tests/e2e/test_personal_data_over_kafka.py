"""A confidential reporter and the accused over the real Kafka and PostgreSQL: who they are
(names, NIP, address, contact) is on no topic, in no database (intake's own included), in no
log line and in no default export bundle; after the reporter is erased, the whole history
still verifies and replays."""

from __future__ import annotations

import copy
import json
import logging
import tarfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from kafka import KafkaConsumer, TopicPartition

from netra.audit.bundle import OPENED, Disclosure, export_case, verify_bundle
from netra.audit.replay import replay_system
from netra.audit.verify import verify_system
from netra.cli import main as netra
from services.intake import create_app
from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine
from shared.web.runtime import runtime
from tests.support.processes import service_processes

# Distinctive enough that a match anywhere is this reporter's.
NAME = f"Pelapor Rahasia {uuid.uuid4().hex[:8]}"
ADDRESS = f"Jl. Sunyi {uuid.uuid4().hex[:8]}"
CONTACT = "+6281" + uuid.uuid4().hex[:8]
SUBJECT_NAME = f"Terlapor {uuid.uuid4().hex[:8]}"
NIP = CONTRACT_EXAMPLE["subject"]["nip"]
IDENTITY = (NAME, ADDRESS, CONTACT, SUBJECT_NAME, NIP)


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Intake's relay, adjudication's consumer and relay, as `make run` starts them; their
    log lines go to files this test reads."""
    logs = tmp_path / "logs"
    logs.mkdir()
    modules = ["services.intake relay", "services.adjudication consumer", "services.adjudication relay"]
    with service_processes(settings, modules, prefix="pd", log_dir=logs) as running:
        yield running


@pytest.fixture
def intake(system: Settings) -> Iterator[Flask]:
    app = create_app(system, clock=ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC)))
    yield app
    runtime(app).close()


def all_records(settings: Settings) -> list[bytes]:
    """Every record's key and value on every topic of this run, from offset 0."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        topics = [t for t in consumer.topics() if t.startswith(settings.topic_prefix)]
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        seen: list[bytes] = []
        deadline = time.monotonic() + 30
        while any(consumer.position(p) < ends[p] for p in partitions) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                seen += [(r.key or b"") + b"\x00" + (r.value or b"") for r in batch]
        return seen
    finally:
        consumer.close()


def database_text(settings: Settings, name: str) -> str:
    engine = create_engine(settings.database_url(name), pool_size=1)
    try:
        with engine.connect() as conn:
            tables = list(
                conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            )
            return "\n".join(
                str(row) for t in tables for row in conn.execute(sa.text(f'SELECT x::text FROM "{t}" x'))
            )
    finally:
        engine.dispose()


def wait_for_case_at_adjudication(settings: Settings, case_id: str) -> None:
    engine = create_engine(settings.database_url("adjudication"), pool_size=1)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                opened = sa.text(
                    "SELECT 1 FROM events WHERE stream_id = :c AND event_type = 'adjudication.examination_opened'"
                )
                if conn.execute(opened, {"c": case_id}).first():
                    return
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise AssertionError("adjudication never opened the examination")


def test_a_confidential_reporter_is_nowhere_in_the_clear_and_erasure_keeps_the_history_whole(
    intake: Flask,
    system: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = runtime(intake).tokens
    partner = {
        "Authorization": "Bearer "
        + tokens.create("Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan", "BAWASLU")
    }
    official = {
        "Authorization": "Bearer "
        + tokens.create("Pemerintah Kabupaten Tabanan", "official", "Pemerintah Kabupaten Tabanan")
    }
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["reporter"] = {"name": NAME, "address": ADDRESS, "contact": CONTACT, "confidential": True}
    body["subject"]["name"] = SUBJECT_NAME
    client = intake.test_client()
    created = client.post("/v1/reports", json=body, headers={**partner, "Idempotency-Key": "pd-1"}).get_json()
    report_id, case_id = created["report_id"], created["case_id"]

    # The privacy officer's question, answered: the filing partner reads it, an official does not.
    assert (
        client.get(f"/v1/reports/{report_id}/reporter", headers=partner).get_json()["reporter"]["name"]
        == NAME
    )
    assert client.get(f"/v1/reports/{report_id}/reporter", headers=official).status_code == 403

    wait_for_case_at_adjudication(system, case_id)
    records = all_records(system)
    assert any(case_id.encode() in r for r in records)  # the case did travel
    for value in IDENTITY:
        assert not [r for r in records if value.encode() in r], f"{value!r} is on a topic in the clear"
        for name in system.database_urls:
            assert value not in database_text(system, name), f"{value!r} is in the {name} database"
        assert value not in caplog.text
        for log in (tmp_path / "logs").iterdir():
            assert value not in log.read_text(errors="replace"), f"{value!r} is in {log.name}"
    bundle = tmp_path / "case.tar.gz"
    export_case(system, case_id, bundle, at=datetime.now(UTC))
    with tarfile.open(bundle) as tar:
        members = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert b'"sealed":"AES-256-GCM"' in members  # the bundle does carry the report, sealed
    for value in IDENTITY:
        assert value.encode() not in members

    # In clear only as a separate act, with who and why in the manifest and each key use recorded.
    clear = tmp_path / "clear.tar.gz"
    manifest = export_case(
        system,
        case_id,
        clear,
        at=datetime.now(UTC),
        disclosure=Disclosure("auditor.bpk", "permintaan pengadilan"),
    )
    assert (
        manifest["personal_data"]["disclosed_by"] == "auditor.bpk"
        and manifest["personal_data"]["fields"] >= 2
    )
    with tarfile.open(clear) as tar:
        opened = tar.extractfile(OPENED).read().decode()  # type: ignore[union-attr]
    assert NAME in opened and SUBJECT_NAME in opened and NIP in opened
    assert verify_bundle(clear).ok
    uses = runtime(intake).keys.uses(f"reporter/{report_id}")
    assert ("export: permintaan pengadilan", "auditor.bpk") in [(p, a) for p, a, _ in uses]

    # Erasure through the administrator's command, then the whole history checks out.
    env = {f"{n.upper()}_DATABASE_URL": u for n, u in system.database_urls.items()}
    env["NETRA_HOME"] = str(system.home)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    erased = CliRunner().invoke(
        netra,
        [
            "privacy",
            "erase",
            "--subject",
            f"reporter/{report_id}",
            "--reason",
            "permintaan subjek data",
            "--by",
            "dpo",
        ],
    )
    assert erased.exit_code == 0, erased.output
    assert client.get(f"/v1/reports/{report_id}/reporter", headers=partner).status_code == 410
    deadline = time.monotonic() + 30
    report = verify_system(system)
    while any(s.pending for s in report.services) and time.monotonic() < deadline:
        time.sleep(0.5)  # the relay is still publishing the erasure
        report = verify_system(system)
    assert report.ok and not any(s.pending for s in report.services), report.text()
    replayed = replay_system(system)
    assert replayed.ok, replayed.text()
    kinds = [
        json.loads(r.split(b"\x00", 1)[1])["event_type"] for r in all_records(system) if case_id.encode() in r
    ]
    assert "intake.personal_data_erased" in kinds
