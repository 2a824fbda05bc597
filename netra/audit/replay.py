"""``netra audit replay``: every service's read models rebuilt from Kafka alone, compared with
the live ones, and its deciders re-run on the recorded inputs.

For each service it imports ``services.<service>.store.readmodel.READ_MODEL`` (the contract in
``shared.readmodel``); a service that does not declare one yet is reported as such, not as
a failure. The topic is read from offset 0 in position order (``kafka_log``), each event is
projected with the service's own ``project`` into a scratch database migrated like the live
one, and each declared table is then diffed row by row (``diff``). Events whose type has a
``rederive`` function are recomputed from the events before them in their stream and must
give the same canonical bytes (type, payload, occurred_at, rule set).

The replay reads what was *published*: events still waiting for the relay are counted, and
a live read model that already includes them differs for that reason alone.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from netra.audit.diff import Difference, TableDiff, diff_table
from netra.audit.kafka_log import TopicLog
from netra.audit.progress import Progress
from netra.audit.scratch import scratch_database
from netra.audit.verify import published_position
from shared.config import SERVICES, Settings
from shared.db import create_engine
from shared.envelope import Envelope, NewEvent, canonical_json, timestamp
from shared.readmodel import ReadModel

BATCH = 2000  # events projected per scratch transaction
NO_READ_MODEL = "no read model declared"


@dataclass(frozen=True)
class DeciderMismatch:
    """A recorded decision that the decider, re-run on the recorded inputs, does not reproduce."""

    event_id: str
    stream_id: str
    stream_version: int
    event_type: str
    problem: str

    def __str__(self) -> str:
        return f"event {self.event_id} (case {self.stream_id} v{self.stream_version} {self.event_type}): {self.problem}"


@dataclass
class ServiceReplay:
    """What replaying one service found."""

    service: str
    status: str = "replayed"
    events: int = 0
    pending: int = 0
    rederived: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    tables: list[TableDiff] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    mismatches: list[DeciderMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.mismatches and not any(t.differences for t in self.tables)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "ok": self.ok,
            "events": self.events,
            "pending": self.pending,
            "rederived": self.rederived,
            "seconds": self.seconds,
            "tables": [t.as_json() for t in self.tables],
            "differences": [str(d) for d in self.differences],
            "decider_mismatches": [str(m) for m in self.mismatches],
        }

    def lines(self) -> list[str]:
        if self.status != "replayed":
            return [f"{self.service}: skipped — {self.status}"]
        state = "matches" if self.ok else "DIFFERS"
        tables = ", ".join(f"{t.table} {t.live_rows}/{t.replayed_rows}" for t in self.tables)
        pending = f", {self.pending} events not yet published" if self.pending else ""
        head = (
            f"{self.service}: {self.events} events replayed{pending}; rows live/replayed: {tables}; "
            f"{self.rederived} decisions re-derived — {state}"
        )
        return (
            [head] + [f"  - {d}" for d in self.differences] + [f"  - decider: {m}" for m in self.mismatches]
        )


@dataclass
class ReplayReport:
    """Every service's replay."""

    services: list[ServiceReplay]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.services)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "services": {s.service: s.as_json() for s in self.services}}

    def text(self) -> str:
        lines = [line for s in self.services for line in s.lines()]
        lines.append(
            "replay matches the live read models" if self.ok else "FAILED: replay differs (listed above)"
        )
        return "\n".join(lines)


def load_read_model(service: str) -> ReadModel | None:
    """``services.<service>.store.readmodel.READ_MODEL``, or None while the service declares none."""
    name = f"services.{service}.store.readmodel"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise  # the module exists but imports something missing: a real error
    model = getattr(module, "READ_MODEL", None)
    return model if isinstance(model, ReadModel) else None


def replay_system(settings: Settings, *, progress: bool = False) -> ReplayReport:
    """Replay every service."""
    return ReplayReport([replay_service(settings, s, progress=progress) for s in SERVICES])


def replay_service(settings: Settings, service: str, *, progress: bool = False) -> ServiceReplay:
    """Rebuild ``service``'s read models from its topic and compare them with the live ones."""
    outcome = ServiceReplay(service)
    model = load_read_model(service)
    if model is None:
        outcome.status = NO_READ_MODEL
        return outcome
    live = create_engine(settings.database_url(service), pool_size=1)
    try:
        started = time.perf_counter()
        with scratch_database(settings.database_url(service), service) as scratch:
            outcome.seconds["setup"] = time.perf_counter() - started
            started = time.perf_counter()
            events = _published_events(settings, service, progress)
            outcome.events = project_into(scratch, model, events, outcome.mismatches.append, outcome)
            # What was not spent in project() and its commits was spent reading and parsing Kafka.
            outcome.seconds["read"] = time.perf_counter() - started - outcome.seconds["project_calls"]
            outcome.pending = max(0, _head_position(live) - published_position(live))
            started = time.perf_counter()
            for table in model.tables:
                outcome.tables.append(diff_table(live, scratch, table, outcome.differences))
            outcome.seconds["diff"] = time.perf_counter() - started
    finally:
        live.dispose()
        outcome.seconds = {k: round(v, 3) for k, v in outcome.seconds.items()}
    return outcome


def _published_events(settings: Settings, service: str, progress: bool) -> Iterator[Envelope]:
    log = TopicLog(settings.kafka_bootstrap, settings.topic(service))
    counter = Progress.to_stderr(f"{service}: replaying", progress)
    try:
        for record in log.records():
            counter.step()
            yield Envelope.from_bytes(record.value)
    finally:
        log.close()


def project_into(
    engine: sa.Engine,
    model: ReadModel,
    events: Iterable[Envelope],
    mismatch: Any,
    outcome: ServiceReplay | None = None,
) -> int:
    """Project ``events`` with ``model`` into ``engine``'s database, ``BATCH`` per transaction;
    re-derive the decider events on the way. Returns how many events were projected."""
    count, busy = 0, 0.0
    conn = engine.connect()
    try:
        history = _StreamHistory(model, conn)
        conn.commit()
        for batch in _batches(events, BATCH):
            started = time.perf_counter()
            with conn.begin():
                # The service's project_many where it declares one, else project per event.
                model.project_batch(conn, batch)
                busy += time.perf_counter() - started
                for envelope in batch:
                    found = history.check(envelope)
                    if found is not None:
                        if outcome is not None:
                            outcome.rederived += 1
                        if found.problem:
                            mismatch(found)
                started = time.perf_counter()
            busy += time.perf_counter() - started
            count += len(batch)
    finally:
        conn.close()
    if outcome is not None:
        outcome.seconds["project_calls"] = busy
    return count


def _batches(events: Iterable[Envelope], size: int) -> Iterator[list[Envelope]]:
    batch: list[Envelope] = []
    for envelope in events:
        batch.append(envelope)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _StreamHistory:
    """The events replayed so far, for re-running deciders on the events before each one.

    Kept in the scratch database, not in memory, so memory stays flat; only a service that
    declares ``rederive`` functions pays for it (one insert per event).
    """

    def __init__(self, model: ReadModel, conn: sa.Connection) -> None:
        self._rederive = model.rederive
        self._conn = conn
        if self._rederive:
            conn.execute(
                sa.text(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS audit_replayed "
                    "(stream_id text, stream_version int, envelope text, PRIMARY KEY (stream_id, stream_version))"
                )
            )

    def check(self, envelope: Envelope) -> DeciderMismatch | None:
        """Re-derive ``envelope`` if its type has a decider; remember it for later ones."""
        if not self._rederive:
            return None
        rederive = self._rederive.get(envelope.event_type)
        result = None
        if rederive is not None:
            result = compare_decision(envelope, rederive(envelope, self._prior(envelope.stream_id)))
        self._conn.execute(
            sa.text("INSERT INTO audit_replayed VALUES (:s, :v, :e) ON CONFLICT DO NOTHING"),
            {"s": envelope.stream_id, "v": envelope.stream_version, "e": envelope.to_bytes().decode()},
        )
        return result

    def _prior(self, stream_id: str) -> tuple[Envelope, ...]:
        rows = self._conn.execute(
            sa.text("SELECT envelope FROM audit_replayed WHERE stream_id = :s ORDER BY stream_version"),
            {"s": stream_id},
        )
        return tuple(Envelope.from_bytes(r.envelope.encode()) for r in rows)


def decision_bytes(event_type: str, payload: Any, occurred_at: str, rule_set: str | None) -> bytes:
    """What a re-derived decision must reproduce, as canonical JSON."""
    return canonical_json(
        {"event_type": event_type, "payload": payload, "occurred_at": occurred_at, "rule_set": rule_set}
    )


def compare_decision(recorded: Envelope, recomputed: NewEvent) -> DeciderMismatch:
    """The comparison of a recorded event with its re-derivation (``problem`` empty if equal)."""
    want = decision_bytes(recorded.event_type, recorded.payload, recorded.occurred_at, recorded.rule_set)
    got = decision_bytes(
        recomputed.event_type,
        dict(recomputed.payload),
        timestamp(recomputed.occurred_at),
        recomputed.rule_set,
    )
    problem = "" if want == got else f"re-derived {got.decode()[:300]} but recorded {want.decode()[:300]}"
    return DeciderMismatch(
        recorded.event_id, recorded.stream_id, recorded.stream_version, recorded.event_type, problem
    )


def _head_position(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def replayed_events(events: Sequence[Envelope]) -> Iterator[Envelope]:
    """``events`` as replay would read them back: through their canonical bytes."""
    for envelope in events:
        yield Envelope.from_bytes(envelope.to_bytes())
