"""``netra audit verify``: the whole history, store and Kafka, checked in one streaming pass
per service.

For each service it walks the store in position order (``shared.verify``: both hash chains,
contiguous positions, version continuity, columns against the sealed bytes) and, beside it,
the service's topic merged back into position order (``kafka_log``). Because both streams
are in position order they are compared like two sorted files, so memory stays flat:

  * a stored event must be on Kafka with identical bytes, key and log-hash header — unless
    it is past the relay's cursor (``outbox.published_position``): then it is *pending*,
    not yet published, which is not a flaw of the history;
  * a Kafka record must be a stored event (a record with no stored counterpart was forged
    on Kafka, or its event was deleted from the store);
  * every causation id must name an event of some service recorded no later than its
    effect. Ids are checked in batches against the stores' unique ``event_id`` index, so
    the verifier never holds the set of all ids.

The auditor app's record of reads (the ``audit`` store, published by its own relay on
``audit.case-events``) is verified the same way, after the services.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from netra.audit.findings import Finding
from netra.audit.kafka_log import LogRecord, TopicLog
from netra.audit.progress import Progress
from shared.config import SERVICES, ConfigError, Settings
from shared.db import create_engine
from shared.envelope import Envelope, EnvelopeError
from shared.schema import events, outbox
from shared.verify import verify_store

CAUSATION_BATCH = 2000
# The auditor app's database (netra/audit_app): its reads are events in their own store,
# published like a service's by its relay (`python -m netra.audit_app relay`).
AUDIT_DB = "audit"


@dataclass
class ServiceAudit:
    """What verification found for one service."""

    service: str
    topic: str
    events: int = 0
    cases: int = 0
    head_position: int = 0
    head_log_hash: str = "0" * 64
    published_position: int = 0
    kafka_records: int = 0
    kafka_duplicates: int = 0
    pending: int = 0
    topic_exists: bool = True
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        body = {k: v for k, v in self.__dict__.items() if k != "findings"}
        return {**body, "ok": self.ok, "findings": [f.as_json() for f in self.findings]}

    def summary(self) -> str:
        """One line for people."""
        state = "ok" if self.ok else f"{len(self.findings)} FLAWS"
        kafka = f"{self.kafka_records} on Kafka" if self.topic_exists else f"topic {self.topic} missing"
        if self.kafka_duplicates:
            # The relay re-sends after a crash between send and cursor: same bytes, checked equal.
            kafka += f" ({self.kafka_duplicates} of them re-published duplicates, byte-identical)"
        pending = f", {self.pending} not yet published" if self.pending else ""
        streams = "auditors" if self.service == AUDIT_DB else "cases"  # one stream per auditor there
        return (
            f"{self.service}: {self.events} events in {self.cases} {streams}, {kafka}{pending}; "
            f"head position {self.head_position} log hash {self.head_log_hash} — {state}"
        )


@dataclass
class AuditReport:
    """Every service's verification."""

    services: list[ServiceAudit]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.services)

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {"ok": self.ok, "services": {s.service: s.as_json() for s in self.services}}

    def text(self) -> str:
        """The report for people: a line per service, then each flaw."""
        lines = []
        for audit in self.services:
            lines.append(audit.summary())
            lines += [f"  - {finding}" for finding in audit.findings]
        lines.append("verified: no flaw found" if self.ok else "FAILED: the history has flaws (listed above)")
        return "\n".join(lines)


def verify_system(settings: Settings, *, progress: bool = False) -> AuditReport:
    """Verify every service's store and topic, and the causation links between them."""
    engines = {s: create_engine(settings.database_url(s), pool_size=1) for s in SERVICES}
    try:
        audits = [verify_service(settings, s, engines, progress=progress) for s in SERVICES]
    finally:
        for engine in engines.values():
            engine.dispose()
    reads = verify_auditor_reads(settings, progress=progress)
    return AuditReport(audits + ([reads] if reads else []))


def verify_auditor_reads(settings: Settings, *, progress: bool = False) -> ServiceAudit | None:
    """The auditor app's record of who read what, verified as a service is: both chains of
    its store, and the store against the topic its relay publishes it on (a read record
    deleted, edited or reordered in the store is named). Its events name no causation, so
    only its own store is searched for causes. None when the app never ran here."""
    try:
        engine = create_engine(settings.database_url(AUDIT_DB), pool_size=1)
    except ConfigError:
        return None  # configured without it: only the services' databases are named
    try:
        try:
            if not sa.inspect(engine).has_table("events"):
                return None
        except sa.exc.OperationalError:
            return None  # its database was never created
        return verify_service(settings, AUDIT_DB, {AUDIT_DB: engine}, progress=progress)
    finally:
        engine.dispose()


def verify_service(
    settings: Settings, service: str, engines: Mapping[str, sa.Engine], *, progress: bool = False
) -> ServiceAudit:
    """Verify one service: its store's chains, its topic against its store, its causations."""
    engine = engines[service]
    audit = ServiceAudit(service, settings.topic(service))
    # The cursor is read before the topic's end offsets: every event at or below it was
    # acknowledged by Kafka before the offsets were taken, so it must be within them.
    audit.published_position = published_position(engine)
    log = TopicLog(settings.kafka_bootstrap, audit.topic)
    try:
        audit.topic_exists = log.exists
        kafka = KafkaComparison(service, log.records(), audit.published_position)
        causes = CausationCheck(service, engines)
        counter = Progress.to_stderr(f"{service}: verifying", progress)

        def observe(row: Any, envelope: Envelope | None) -> None:
            kafka.see(row)
            if envelope is not None:
                causes.see(row.position, envelope)
            counter.step()

        store = verify_store(engine, observe=observe)
        kafka.finish()
        causes.flush()
        audit.findings += [Finding.of_store_flaw(service, f) for f in store.flaws]
        audit.findings += kafka.findings + _resent_findings(service, engine, log) + causes.findings
        audit.events, audit.cases = store.events, store.streams
        audit.head_position, audit.head_log_hash = store.head_position, store.head_log_hash
        audit.kafka_records, audit.kafka_duplicates = log.read, len(log.duplicates)
        audit.pending = kafka.pending
    finally:
        log.close()
    return audit


def published_position(engine: sa.Engine) -> int:
    """How far the service's relay has published (0 when it never ran)."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(sa.func.max(outbox.c.published_position))).scalar()
    return int(found or 0)


class KafkaComparison:
    """Compares the store (fed row by row in position order) with the topic's records."""

    def __init__(self, service: str, records: Iterator[LogRecord], published: int) -> None:
        self.service = service
        self.published = published
        self.pending = 0
        self.findings: list[Finding] = []
        self._records = records
        self._head = next(records, None)

    def see(self, row: Any) -> None:
        """Check one stored row against the topic."""
        while self._head is not None and (self._head.position or 0) < row.position:
            self._kafka_only(self._head)
            self._advance()
        if self._head is not None and self._head.position == row.position:
            self._compare(row, self._head)
            self._advance()
        elif row.position <= self.published:
            self._flaw(row, "the relay published it but it is not on Kafka: the topic lost or dropped it")
        else:
            self.pending += 1

    def finish(self) -> None:
        """Flag every record left on the topic past the store's last event."""
        while self._head is not None:
            self._kafka_only(self._head)
            self._advance()

    def _advance(self) -> None:
        self._head = next(self._records, None)

    def _compare(self, row: Any, record: LogRecord) -> None:
        if record.value != row.envelope.encode():
            self._flaw(row, "the bytes on Kafka differ from the stored event: one of the two was altered")
        if record.key != row.stream_id.encode():
            self._flaw(row, f"the Kafka key {record.key!r} is not the event's case id")
        if record.log_hash != row.log_hash:
            self._flaw(row, "the log hash header on Kafka differs from the store's service log hash")

    def _kafka_only(self, record: LogRecord) -> None:
        self.findings.append(
            record_finding(
                self.service,
                record,
                f"on Kafka (partition {record.partition}, offset {record.offset}) but not in the store: "
                "forged on Kafka, or deleted from the store",
            )
        )

    def _flaw(self, row: Any, problem: str) -> None:
        self.findings.append(
            Finding(
                self.service,
                "kafka",
                problem,
                row.position,
                str(row.event_id),
                row.stream_id,
                row.stream_version,
                row.event_type,
            )
        )


def record_finding(service: str, record: LogRecord, problem: str) -> Finding:
    """A finding about a Kafka record, named by its envelope when the value parses."""
    try:
        envelope = Envelope.from_bytes(record.value)
    except EnvelopeError:
        return Finding(service, "kafka", problem + " (its value is not an envelope)", record.position)
    return Finding(
        service,
        "kafka",
        problem,
        record.position,
        envelope.event_id,
        envelope.stream_id,
        envelope.stream_version,
        envelope.event_type,
    )


def _resent_findings(service: str, engine: sa.Engine, log: TopicLog) -> list[Finding]:
    """A re-sent duplicate must be byte-identical to the stored event at its position; a
    record without a position header was not written by the relay."""
    found = [
        record_finding(service, r, f"partition {r.partition} offset {r.offset} has no netra-position header")
        for r in log.unplaced
    ]
    with engine.connect() as conn:
        for record in log.duplicates:
            stored = conn.execute(
                sa.select(events.c.envelope).where(events.c.position == record.position)
            ).scalar()
            if stored is None or stored.encode() != record.value:
                found.append(
                    record_finding(
                        service,
                        record,
                        f"a repeated record (partition {record.partition}, offset {record.offset}) differs "
                        "from the stored event at its position",
                    )
                )
    return found


@dataclass(frozen=True)
class _Effect:
    position: int
    envelope: Envelope


class CausationCheck:
    """Checks, in batches, that each causation id names an event recorded no later."""

    def __init__(self, service: str, engines: Mapping[str, sa.Engine], batch: int = CAUSATION_BATCH) -> None:
        self.service = service
        self.findings: list[Finding] = []
        self._engines = engines
        self._batch = batch
        self._pending: list[_Effect] = []

    def see(self, position: int, envelope: Envelope) -> None:
        """Queue the causation of one event for checking."""
        if envelope.causation_id is None:
            return
        self._pending.append(_Effect(position, envelope))
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Check the queued causations against every store."""
        if not self._pending:
            return
        ids = {e.envelope.causation_id for e in self._pending if _is_uuid(e.envelope.causation_id)}
        recorded = self._recorded_at(sorted(i for i in ids if i is not None))
        for effect in self._pending:
            self._check(effect, recorded)
        self._pending = []

    def _recorded_at(self, ids: list[str]) -> dict[str, tuple[str, datetime]]:
        found: dict[str, tuple[str, datetime]] = {}
        if not ids:
            return found
        query = sa.text(
            "SELECT event_id::text AS id, recorded_at FROM events WHERE event_id = ANY(CAST(:ids AS uuid[]))"
        )
        for service, engine in self._engines.items():
            with engine.connect() as conn:
                for row in conn.execute(query, {"ids": ids}):
                    found[row.id] = (service, row.recorded_at)
        return found

    def _check(self, effect: _Effect, recorded: dict[str, tuple[str, datetime]]) -> None:
        envelope = effect.envelope
        cause = recorded.get(str(envelope.causation_id).lower())
        if cause is None:
            problem = f"causation id {envelope.causation_id} is not an event of any service"
        elif cause[1] > datetime.fromisoformat(envelope.recorded_at):
            problem = (
                f"caused by {cause[0]} event {envelope.causation_id}, which was recorded after it: "
                "a cause cannot follow its effect"
            )
        else:
            return
        self.findings.append(
            Finding(
                self.service,
                "causation",
                problem,
                effect.position,
                envelope.event_id,
                envelope.stream_id,
                envelope.stream_version,
                envelope.event_type,
            )
        )


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def render_json(report: AuditReport) -> str:
    """The report as indented JSON."""
    return json.dumps(report.as_json(), indent=2, default=str)
