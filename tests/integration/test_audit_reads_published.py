"""The auditor app's record of reads is published to Kafka by its own relay (`python -m
netra.audit_app relay`, as `make run` starts it), and `netra audit verify` compares the audit
store with that topic byte for byte, as it does a service's: a read record a database
superuser deletes, edits or reorders is a named finding, even where the store's own chains
cannot see it (the newest record deleted)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from flask import Flask
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from netra.audit.verify import AuditReport, verify_auditor_reads, verify_system
from netra.audit_app import create_app
from shared.bus import dlq_topic
from shared.clock import ManualClock
from shared.config import Settings
from shared.outbox import LOG_HASH_HEADER, POSITION_HEADER
from shared.processes import ensure_system_topics
from shared.web.runtime import runtime
from tests.conftest import NewDatabase
from tests.integration.test_audit_verify import flaws_of, stored, tamper
from tests.support.audit_system import AuditedSystem, build_system
from tests.support.kafka import at_least, read_topic
from tests.support.processes import service_processes
from tests.support.readiness import processes_when

AUDITOR = "auditor-1"


@pytest.fixture
def system(settings: Settings, new_database: NewDatabase, clock: ManualClock) -> Iterator[AuditedSystem]:
    """The three services' small history, and an audit store the auditor app writes to."""
    with_audit = replace(settings, database_urls={**settings.database_urls, "audit": new_database("audit")})
    built = build_system(with_audit, clock)
    yield built
    built.close()


@pytest.fixture
def auditor_app(system: AuditedSystem) -> Iterator[Flask]:
    app = create_app(system.settings)  # the system clock: /readyz ages the relay's real heartbeats
    yield app
    runtime(app).close()


def read_cases(app: Flask, system: AuditedSystem, reads: int) -> None:
    """``reads`` history reads by one auditor, alternating between the system's cases."""
    cases = list(dict.fromkeys(e.stream_id for e in system.recorded["intake"]))
    headers = {"Authorization": f"Bearer {runtime(app).tokens.create(AUDITOR, 'auditor')}"}
    client = app.test_client()
    for n in range(reads):
        response = client.get(f"/v1/audit/cases/{cases[n % len(cases)]}/history", headers=headers)
        assert response.status_code == 200, response.json


def audit_flaws(report: AuditReport) -> list[str]:
    assert all(s.ok for s in report.services if s.service != "audit"), report.text()
    return flaws_of(report, "audit")


@pytest.fixture
def published(system: AuditedSystem, auditor_app: Flask) -> AuditedSystem:
    """Three reads, recorded and published by the audit relay."""
    read_cases(auditor_app, system, 3)
    system.relay("audit")
    return system


def test_the_audit_topic_is_created_like_the_services_with_unlimited_retention_and_no_dlq(
    system: AuditedSystem,
) -> None:
    topic = system.settings.topic("audit")
    assert topic.endswith("audit.case-events")
    assert ensure_system_topics(system.settings) == []  # build_system created it with the others
    admin = KafkaAdminClient(bootstrap_servers=system.settings.kafka_bootstrap)
    try:
        assert dlq_topic(topic) not in admin.list_topics()  # nothing consumes it: nothing to park
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    assert described["topic"][topic]["retention.ms"]["value"] == "-1"


def test_the_audit_relay_process_publishes_each_read_byte_for_byte_and_beats(
    system: AuditedSystem, auditor_app: Flask
) -> None:
    client = auditor_app.test_client()
    assert processes_when(client, lambda p: p == {"relay": "down: never seen"}) == {
        "relay": "down: never seen"
    }
    read_cases(auditor_app, system, 1)
    with service_processes(system.settings, ["netra.audit_app relay"], prefix="ar") as running:
        [record] = read_topic(running.kafka_bootstrap, running.topic("audit"), until=at_least(1))
        assert processes_when(client, lambda p: p["relay"] == "ok")["relay"] == "ok", (
            "the audit relay never beat"
        )
        read = stored(system, "audit", 1)
        assert (record.key, record.value) == (f"auditor:{AUDITOR}".encode(), read.envelope.encode())
        assert dict(record.headers) == {POSITION_HEADER: b"1", LOG_HASH_HEADER: read.log_hash.encode()}
        assert "audit.case_history_read" in read.envelope
        reads = verify_auditor_reads(running)
    assert reads is not None and reads.ok, reads
    assert (reads.events, reads.kafka_records, reads.pending, reads.topic_exists) == (1, 1, 0, True)
    assert "netra_relay_backlog_events" in client.get("/metrics").get_data(as_text=True)


def test_verify_is_clean_and_counts_reads_on_kafka_and_those_not_yet_published(
    published: AuditedSystem, auditor_app: Flask
) -> None:
    report = verify_system(published.settings)
    assert report.ok, report.text()
    [reads] = [s for s in report.services if s.service == "audit"]
    assert (reads.events, reads.cases, reads.kafka_records, reads.pending) == (3, 1, 3, 0)
    assert "audit: 3 events in 1 auditors, 3 on Kafka;" in report.text()
    read_cases(auditor_app, published, 1)  # not yet relayed: pending, not a flaw
    again = verify_system(published.settings)
    assert again.ok and [s.pending for s in again.services] == [0, 0, 0, 1], again.text()


def test_a_deleted_read_record_is_named(published: AuditedSystem) -> None:
    deleted = stored(published, "audit", 2)
    tamper(published, "audit", "DELETE FROM events WHERE position = 2")
    flaws = audit_flaws(verify_system(published.settings))
    assert any(
        f.startswith(f"[kafka] audit position 2, event {deleted.event_id}") and "not in the store" in f
        for f in flaws
    ), flaws
    assert any("[store] audit position 3" in f and "missing" in f for f in flaws), flaws


def test_the_newest_read_record_deleted_leaves_the_chains_whole_and_kafka_names_it(
    published: AuditedSystem,
) -> None:
    newest = stored(published, "audit", 3)
    # A careful intruder also winds the relay's cursor back, so nothing claims it was published.
    tamper(
        published,
        "audit",
        "DELETE FROM events WHERE position = 3",
        "UPDATE outbox SET published_position = 2",
    )
    flaws = audit_flaws(verify_system(published.settings))
    assert len(flaws) == 1, flaws
    assert f"[kafka] audit position 3, event {newest.event_id}, case auditor:{AUDITOR}" in flaws[0]
    assert "not in the store" in flaws[0]


def test_an_edited_read_record_is_named(published: AuditedSystem) -> None:
    read = stored(published, "audit", 1)
    tamper(
        published,
        "audit",
        "UPDATE events SET envelope = replace(envelope, :was, :now) WHERE position = 1",
        was='"found":true',
        now='"found":false',
    )
    assert stored(published, "audit", 1).envelope != read.envelope
    flaws = audit_flaws(verify_system(published.settings))
    assert all(f"audit position 1, event {read.event_id}" in f for f in flaws), flaws
    assert any("[store]" in f and "edited" in f for f in flaws), flaws
    assert any("[kafka]" in f and "bytes on Kafka differ" in f for f in flaws), flaws


def test_two_swapped_read_records_are_named(published: AuditedSystem) -> None:
    first, second = stored(published, "audit", 1), stored(published, "audit", 2)
    tamper(
        published,
        "audit",
        "UPDATE events SET position = -1 WHERE position = 1",
        "UPDATE events SET position = 1 WHERE position = 2",
        "UPDATE events SET position = 2 WHERE position = -1",
    )
    flaws = audit_flaws(verify_system(published.settings))
    joined = "\n".join(flaws)
    assert str(first.event_id) in joined and str(second.event_id) in joined
    assert any("[kafka] audit position 1" in f and "bytes on Kafka differ" in f for f in flaws), flaws
    assert any("[kafka] audit position 2" in f and "bytes on Kafka differ" in f for f in flaws), flaws


def test_verify_reads_an_audit_store_that_was_never_migrated_or_configured_as_absent(
    settings: Settings,
) -> None:
    assert verify_auditor_reads(settings) is None  # no audit database configured here
    missing = replace(
        settings,
        database_urls={
            **settings.database_urls,
            "audit": sa.make_url(settings.database_url("intake"))
            .set(database="netra_audit_never_created")
            .render_as_string(hide_password=False),
        },
    )
    assert verify_auditor_reads(missing) is None
