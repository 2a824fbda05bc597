"""`netra audit verify` against real stores and a real Kafka: a clean system verifies clean,
and every kind of tampering is reported with the event it touched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from netra.audit.verify import AuditReport, verify_system
from netra.cli import main
from shared.bus import make_producer
from shared.clock import ManualClock
from shared.config import Settings
from shared.envelope import Envelope, canonical_json, chain_hash
from shared.outbox import LOG_HASH_HEADER, POSITION_HEADER
from tests.support.audit_system import AuditedSystem, build_system


@pytest.fixture
def system(settings: Settings, clock: ManualClock) -> Iterator[AuditedSystem]:
    built = build_system(settings, clock)
    yield built
    built.close()


def tamper(system: AuditedSystem, service: str, *statements: str, **params: object) -> None:
    """Change a store as a superuser would: the append-only trigger disabled."""
    with system.engine(service).begin() as conn:
        conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        for statement in statements:
            conn.execute(sa.text(statement), params)
        conn.execute(sa.text("ALTER TABLE events ENABLE TRIGGER events_append_only"))


def stored(system: AuditedSystem, service: str, position: int) -> sa.Row:
    with system.engine(service).connect() as conn:
        return conn.execute(sa.text("SELECT * FROM events WHERE position = :p"), {"p": position}).one()


def flaws_of(report: AuditReport, service: str) -> list[str]:
    [audit] = [s for s in report.services if s.service == service]
    return [str(f) for f in audit.findings]


def forge(original: Envelope, **changes: object) -> Envelope:
    """A new event made from ``original``, with a fresh id and a correctly recomputed hash."""
    unsealed = replace(original, event_id=str(uuid.uuid4()), hash="", **changes)  # type: ignore[arg-type]
    return replace(unsealed, hash=unsealed.computed_hash())


def env_of(settings: Settings) -> dict[str, str]:
    urls = {f"{name.upper()}_DATABASE_URL": url for name, url in settings.database_urls.items()}
    return {
        **urls,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
        "NETRA_TOPIC_PREFIX": settings.topic_prefix,
    }


def test_a_clean_system_verifies_clean_with_counts_and_head_hashes(system: AuditedSystem) -> None:
    result = CliRunner().invoke(main, ["audit", "verify", "--json", "--quiet"], env=env_of(system.settings))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    intake = report["services"]["intake"]
    assert (intake["events"], intake["cases"], intake["kafka_records"], intake["pending"]) == (4, 2, 4, 0)
    assert intake["head_log_hash"] == stored(system, "intake", 4).log_hash
    assert report["services"]["adjudication"]["events"] == 4


def test_events_not_yet_relayed_are_pending_not_flaws(system: AuditedSystem) -> None:
    case = system.recorded["intake"][0].stream_id
    system.append("intake", case, ["intake.case_stage_changed"])
    report = verify_system(system.settings)
    assert report.ok, report.text()
    assert [s.pending for s in report.services] == [1, 0, 0]


def test_an_edited_payload_is_named_by_the_store_chain_and_the_kafka_comparison(
    system: AuditedSystem,
) -> None:
    target = stored(system, "adjudication", 2)
    body = json.loads(target.envelope)
    body["payload"]["n"] = 99
    tamper(
        system,
        "adjudication",
        "UPDATE events SET envelope = :e WHERE position = 2",
        e=canonical_json(body).decode(),
    )
    report = verify_system(system.settings)
    flaws = flaws_of(report, "adjudication")
    assert not report.ok
    assert all(f"position 2, event {target.event_id}" in f for f in flaws), flaws
    assert any("[store]" in f and "edited" in f for f in flaws), flaws
    assert any("[kafka]" in f and "bytes on Kafka differ" in f for f in flaws), flaws
    assert flaws_of(report, "intake") == []


def test_a_deleted_event_is_named(system: AuditedSystem) -> None:
    deleted = stored(system, "intake", 2)
    tamper(system, "intake", "DELETE FROM events WHERE position = 2")
    flaws = flaws_of(verify_system(system.settings), "intake")
    assert any("[kafka]" in f and str(deleted.event_id) in f and "not in the store" in f for f in flaws), (
        flaws
    )
    assert any("[store]" in f and "position 3" in f and "missing" in f for f in flaws), flaws


def test_two_swapped_events_are_named(system: AuditedSystem) -> None:
    first, second = stored(system, "intake", 1), stored(system, "intake", 2)
    tamper(
        system,
        "intake",
        "UPDATE events SET position = -1 WHERE position = 1",
        "UPDATE events SET position = 1 WHERE position = 2",
        "UPDATE events SET position = 2 WHERE position = -1",
    )
    flaws = flaws_of(verify_system(system.settings), "intake")
    joined = "\n".join(flaws)
    assert str(first.event_id) in joined and str(second.event_id) in joined
    assert any("case version 2 follows version 0" in f for f in flaws), flaws
    assert any("[kafka]" in f and "bytes on Kafka differ" in f for f in flaws), flaws


def test_a_forged_event_with_a_correct_case_hash_is_caught_by_the_log_chain_and_kafka(
    system: AuditedSystem,
) -> None:
    last = Envelope.from_bytes(stored(system, "sanctions", 2).envelope.encode())
    forged = forge(last, stream_version=2, prev_hash=last.hash, payload={"penalty": "forged"})
    head = stored(system, "sanctions", 2)
    tamper(
        system,
        "sanctions",
        "INSERT INTO events (position, event_id, stream_id, stream_version, event_type, occurred_at,"
        " recorded_at, envelope, hash, log_prev_hash, log_hash)"
        " VALUES (3, :id, :case, 2, :type, now(), now(), :env, :hash, :prev, :log)",
        id=forged.event_id,
        case=forged.stream_id,
        type=forged.event_type,
        env=forged.to_bytes().decode(),
        hash=forged.hash,
        prev=stored(system, "sanctions", 1).log_hash,
        log=chain_hash(head.log_hash, b"forged"),
    )
    # The relay's cursor says position 3 was never published: make it claim so, as an
    # intruder covering their tracks would.
    with system.engine("sanctions").begin() as conn:
        conn.execute(sa.text("UPDATE outbox SET published_position = 3"))
    flaws = [f for f in flaws_of(verify_system(system.settings), "sanctions") if forged.event_id in f]
    assert any("[store]" in f and "service log" in f for f in flaws), flaws
    assert any("[kafka]" in f and "not on Kafka" in f for f in flaws), flaws


def test_an_event_on_kafka_missing_from_the_store_is_named(system: AuditedSystem) -> None:
    stray = system.recorded["intake"][-1]
    forged = forge(stray, stream_version=3, prev_hash=stray.hash)
    producer = make_producer(system.settings.kafka_bootstrap, "intruder")
    producer.send(
        system.settings.topic("intake"),
        key=forged.stream_id.encode(),
        value=forged.to_bytes(),
        headers=[(POSITION_HEADER, b"5"), (LOG_HASH_HEADER, b"0" * 64)],
    ).get(timeout=30)
    producer.close()
    flaws = flaws_of(verify_system(system.settings), "intake")
    assert len(flaws) == 1, flaws
    assert forged.event_id in flaws[0] and "not in the store" in flaws[0] and "position 5" in flaws[0]


def test_a_re_published_duplicate_is_no_flaw_and_the_summary_says_so(system: AuditedSystem) -> None:
    # A relay that crashed between send and cursor sends the same record again (issue 16).
    row = stored(system, "intake", 4)
    producer = make_producer(system.settings.kafka_bootstrap, "relay-again")
    producer.send(
        system.settings.topic("intake"),
        key=row.stream_id.encode(),
        value=row.envelope.encode(),
        headers=[(POSITION_HEADER, b"4"), (LOG_HASH_HEADER, row.log_hash.encode())],
    ).get(timeout=30)
    producer.close()
    report = verify_system(system.settings)
    assert report.ok, report.text()
    [intake] = [s for s in report.services if s.service == "intake"]
    assert (intake.kafka_records, intake.kafka_duplicates) == (5, 1)
    assert "5 on Kafka (1 of them re-published duplicates, byte-identical)" in intake.summary()


def test_a_causation_id_naming_no_event_is_named(system: AuditedSystem) -> None:
    case = system.recorded["intake"][0].stream_id
    ghost = forge(system.recorded["intake"][0])
    [effect] = system.append("adjudication", case, ["adjudication.summons_issued"], cause=ghost)
    system.relay("adjudication")
    flaws = flaws_of(verify_system(system.settings), "adjudication")
    assert len(flaws) == 1 and effect.event_id in flaws[0] and "not an event of any service" in flaws[0], (
        flaws
    )
