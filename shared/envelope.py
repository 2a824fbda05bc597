"""The event envelope, its canonical bytes and the two hash chains (docs/architecture.md §2).

Every event is sealed once, when it is appended: ``hash = sha256(prev_hash + canonical(envelope
without hash))`` where ``prev_hash`` is the hash of the previous event of the same case. The
canonical form (RFC 8785, see ``canonical_json``) is also the exact byte string stored in
PostgreSQL and published to Kafka, so "the same event" can be compared byte for byte anywhere.

The service log chain links every event of one service in position order:
``log_hash = sha256(log_prev_hash + hash)``. It catches what the case chain alone cannot: a
whole case deleted, or a forged event whose case hashes were recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import rfc8785
import uuid6

GENESIS_HASH = "0" * 64


class EnvelopeError(ValueError):
    """Bytes that are not a well-formed Netra envelope."""


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a person or a system process, with the role they acted in."""

    id: str
    role: str


@dataclass(frozen=True)
class NewEvent:
    """What a decider returns: the fact, without the metadata the store adds on append.

    ``event_id`` is fixed by the decider only when a later event of the same outcome cites
    this one (a referral names its finding); ``caused_by`` names such an earlier event of the
    same outcome as this one's cause, instead of the append's context.
    """

    event_type: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    schema_version: int = 1
    rule_set: str | None = None
    event_id: str | None = None
    caused_by: str | None = None


@dataclass(frozen=True)
class Context:
    """Why the events of one append happened: who, under which report, caused by what."""

    actor: Actor
    correlation_id: str
    causation_id: str | None = None


@dataclass(frozen=True)
class Envelope:
    """One sealed event exactly as stored and published."""

    event_id: str
    event_type: str
    schema_version: int
    stream_id: str
    stream_version: int
    occurred_at: str
    recorded_at: str
    actor: Mapping[str, str]
    correlation_id: str
    causation_id: str | None
    rule_set: str | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str = field(default="")

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (shallow: nested values are shared, not copied)."""
        return {name: getattr(self, name) for name in _FIELDS}

    def unsealed(self) -> dict[str, Any]:
        """The envelope's fields without ``hash``: what the hash covers."""
        body = self.as_dict()
        del body["hash"]
        return body

    def computed_hash(self) -> str:
        """The hash this envelope should carry, recomputed from its other fields."""
        return chain_hash(self.prev_hash, canonical_json(self.unsealed()))

    def to_bytes(self) -> bytes:
        """The canonical bytes: stored in ``events.envelope`` and sent as the Kafka value."""
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        # Computed once: the relay, the store and the hash all want the same bytes.
        return canonical_json(self.as_dict())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse canonical bytes; raise EnvelopeError naming what is wrong."""
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"not JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> Envelope:
        """Build from decoded JSON, checking every field's presence and type."""
        if not isinstance(data, dict):
            raise EnvelopeError("an envelope is a JSON object")
        problems = [f"{name}: {msg}" for name, msg in _field_problems(data)]
        if problems:
            raise EnvelopeError("; ".join(problems))
        return cls(**{name: data[name] for name in _FIELDS})


_FIELDS: dict[str, tuple[type, ...]] = {
    "event_id": (str,),
    "event_type": (str,),
    "schema_version": (int,),
    "stream_id": (str,),
    "stream_version": (int,),
    "occurred_at": (str,),
    "recorded_at": (str,),
    "actor": (dict,),
    "correlation_id": (str,),
    "causation_id": (str, type(None)),
    "rule_set": (str, type(None)),
    "payload": (dict,),
    "prev_hash": (str,),
    "hash": (str,),
}


def _field_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for name, types in _FIELDS.items():
        if name not in data:
            problems.append((name, "missing"))
        elif not isinstance(data[name], types) or isinstance(data[name], bool):
            problems.append((name, f"must be {' or '.join(t.__name__ for t in types)}"))
    extra = sorted(set(data) - set(_FIELDS))
    if extra:
        problems.append((",".join(extra), "unknown field"))
    if not problems and data["stream_version"] < 1:
        problems.append(("stream_version", "must be 1 or more"))
    return problems


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON: sorted keys, no whitespace, UTF-8, one spelling per value.

    Netra's events hold objects, arrays, strings, integers, booleans and null, never floats
    (amounts are integers, measures decimal strings). On that subset Python's C encoder
    writes exactly the RFC 8785 bytes at a fraction of the reference's cost, except that it
    orders keys by code point where RFC 8785 orders them by UTF-16 unit: the two differ only
    for keys with characters beyond U+FFFF, so text holding any such character goes to the
    ``rfc8785`` reference instead. tests/unit/test_canonical_json.py holds the two to the same
    bytes. Floats, whose RFC 8785 spelling differs from Python's, are refused. Both checks
    scan the encoded text (C regular expressions), not the value: walking it in Python cost
    as much as the encoding.
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN or an infinity
        _refuse_floats(value)
        raise
    if _FLOAT_SPELLING.search(_JSON_STRING.sub("", text)):
        _refuse_floats(value)
    if _ASTRAL.search(text):
        return rfc8785.dumps(value)
    return text.encode()


# A JSON string token; with every string removed, a digit followed by ".", "e" or "E" can only
# be a float as Python spells one ("1.5", "1e+16"), never an integer, true or false.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_FLOAT_SPELLING = re.compile(r"\d[.eE]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _refuse_floats(value: object) -> None:
    """Raise naming the first float in ``value``."""
    if isinstance(value, float):
        raise TypeError(f"floats are not allowed in events ({value!r}): use an integer or a decimal string")
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def chain_hash(prev_hash: str, body: bytes) -> str:
    """sha256 over the previous link's hex hash followed by ``body``."""
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def log_link(log_prev_hash: str, event_hash: str) -> str:
    """The service-log chain link for an event whose case-chain hash is ``event_hash``."""
    return chain_hash(log_prev_hash, event_hash.encode("ascii"))


def new_event_id() -> str:
    """A UUIDv7: time-ordered, so ids sort roughly as events were recorded."""
    return str(uuid6.uuid7())


def timestamp(at: datetime) -> str:
    """ISO 8601 with microseconds and the instant's own offset (valid time keeps its zone)."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.isoformat(timespec="microseconds")


def seal(
    event: NewEvent,
    *,
    stream_id: str,
    stream_version: int,
    prev_hash: str,
    context: Context,
    recorded_at: datetime,
    event_id: str | None = None,
) -> Envelope:
    """Give ``event`` its place in the case stream, its metadata and its hash."""
    unsealed = Envelope(
        event_id=event_id or new_event_id(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_version=stream_version,
        occurred_at=timestamp(event.occurred_at),
        recorded_at=timestamp(recorded_at.astimezone(UTC)),
        actor={"id": context.actor.id, "role": context.actor.role},
        correlation_id=context.correlation_id,
        causation_id=context.causation_id,
        rule_set=event.rule_set,
        payload=dict(event.payload),
        prev_hash=prev_hash,
    )
    return replace(unsealed, hash=unsealed.computed_hash())
