"""The verifier: proves, from the stored bytes alone, that a service's event log is unaltered.

It streams the ``events`` table in position order (memory grows with the number of cases,
not of events) and checks, for every row:
  * the envelope parses and its hash matches its own content (an edited payload fails);
  * the row's query columns agree with the envelope (an edited column fails);
  * positions are contiguous from 1 (a deleted row leaves a gap);
  * the service-log chain links to the previous row (deletion, reordering, insertion);
  * the case chain: versions 1, 2, 3 … per case and ``prev_hash`` = the previous event's hash.
Every flaw names the position, event id, case, version and type it was found at.

``netra.audit.verify`` builds on this with the Kafka comparison and the causation check: it
passes an ``observe`` callback that sees every row with its parsed envelope, so the stored
bytes are read and parsed once for all checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from shared.envelope import GENESIS_HASH, Envelope, EnvelopeError, log_link
from shared.schema import events


@dataclass(frozen=True)
class Flaw:
    """One thing wrong with the log, and exactly where."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int | None
    problem: str
    event_type: str | None = None

    def __str__(self) -> str:
        version = "?" if self.stream_version is None else self.stream_version
        kind = f" {self.event_type}" if self.event_type else ""
        return (
            f"position {self.position}, event {self.event_id} (case {self.stream_id} v{version}{kind}): "
            f"{self.problem}"
        )


@dataclass
class Report:
    """What a verification found: counts, the log's head hash and every flaw."""

    events: int = 0
    streams: int = 0
    head_position: int = 0
    head_log_hash: str = GENESIS_HASH
    flaws: list[Flaw] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.flaws


# Sees each row and its envelope (None when the stored bytes do not parse).
Observer = Callable[[Any, Envelope | None], None]


def verify_rows(rows: Iterable[Any], observe: Observer | None = None) -> Report:
    """Verify rows of ``events`` given in position order; ``observe`` sees each one."""
    report = Report()
    streams: dict[str, tuple[int, str]] = {}
    expected_position, log_prev = 1, GENESIS_HASH
    for row in rows:
        report.events += 1
        envelope = _parse(row)
        report.flaws.extend(_row_flaws(row, envelope, expected_position, log_prev, streams))
        if observe is not None:
            observe(row, envelope)
        expected_position, log_prev = row.position + 1, row.log_hash
        report.head_position, report.head_log_hash = row.position, row.log_hash
    report.streams = len(streams)
    return report


def verify_store(engine: sa.Engine, batch: int = 2000, observe: Observer | None = None) -> Report:
    """Verify one service database's whole log, streaming it in batches."""
    return verify_rows(stream_rows(engine, batch), observe)


def stream_rows(engine: sa.Engine, batch: int = 2000) -> Iterator[Any]:
    """Every row of ``events`` in position order, fetched ``batch`` at a time (flat memory)."""
    query = sa.select(events).order_by(events.c.position)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        yield from result


def _parse(row: Any) -> Envelope | None:
    try:
        return Envelope.from_bytes(row.envelope.encode())
    except EnvelopeError:
        return None


def _row_flaws(
    row: Any,
    envelope: Envelope | None,
    expected_position: int,
    log_prev: str,
    streams: dict[str, tuple[int, str]],
) -> Iterator[Flaw]:
    def flaw(problem: str, version: int | None = row.stream_version) -> Flaw:
        return Flaw(row.position, str(row.event_id), row.stream_id, version, problem, row.event_type)

    if row.position != expected_position:
        yield flaw(f"positions {expected_position}..{row.position - 1} are missing: events were deleted")
    if row.log_prev_hash != log_prev:
        yield flaw("service log chain broken: it does not link to the previous event in the log")
    if row.log_hash != log_link(row.log_prev_hash, row.hash):
        yield flaw("service log hash does not match: the row's hashes were altered")
    if envelope is None:
        try:
            Envelope.from_bytes(row.envelope.encode())
        except EnvelopeError as exc:
            yield flaw(f"stored envelope is unreadable: {exc}")
        return
    if envelope.computed_hash() != envelope.hash:
        yield flaw("hash does not match the event's content: the event was edited after it was recorded")
    mismatched = _column_mismatches(row, envelope)
    if mismatched:
        yield flaw(f"columns {', '.join(mismatched)} disagree with the stored envelope")
    yield from _case_chain_flaws(envelope, streams, flaw)


def _column_mismatches(row: Any, envelope: Envelope) -> list[str]:
    pairs = {
        "event_id": (str(row.event_id), envelope.event_id),
        "stream_id": (row.stream_id, envelope.stream_id),
        "stream_version": (row.stream_version, envelope.stream_version),
        "event_type": (row.event_type, envelope.event_type),
        "hash": (row.hash, envelope.hash),
    }
    return [name for name, (column, sealed) in pairs.items() if column != sealed]


def _case_chain_flaws(envelope: Envelope, streams: dict[str, tuple[int, str]], flaw: Any) -> Iterator[Flaw]:
    last_version, last_hash = streams.get(envelope.stream_id, (0, GENESIS_HASH))
    if envelope.stream_version != last_version + 1:
        yield flaw(
            f"case version {envelope.stream_version} follows version {last_version}: "
            "events of this case were deleted, reordered or inserted",
            envelope.stream_version,
        )
    if envelope.prev_hash != last_hash:
        yield flaw(
            "case chain broken: prev_hash is not the hash of the case's previous event",
            envelope.stream_version,
        )
    streams[envelope.stream_id] = (max(last_version, envelope.stream_version), envelope.hash)
