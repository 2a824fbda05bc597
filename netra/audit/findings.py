"""What an audit found, in one shape for every check: where (service, position, event, case,
version, type) and what is wrong, printable for people and as JSON for machines."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.verify import Flaw


@dataclass(frozen=True)
class Finding:
    """One flaw, naming the exact event it was found at (fields unknown for a record that
    does not parse are None)."""

    service: str
    check: str  # "store", "kafka" or "causation"
    problem: str
    position: int | None = None
    event_id: str | None = None
    stream_id: str | None = None
    stream_version: int | None = None
    event_type: str | None = None

    @classmethod
    def of_store_flaw(cls, service: str, flaw: Flaw) -> Finding:
        """A flaw of ``shared.verify`` (one service's store) as a finding."""
        return cls(
            service,
            "store",
            flaw.problem,
            flaw.position,
            flaw.event_id,
            flaw.stream_id,
            flaw.stream_version,
            flaw.event_type,
        )

    def __str__(self) -> str:
        version = "?" if self.stream_version is None else self.stream_version
        where = [
            f"position {self.position if self.position is not None else '?'}",
            f"event {self.event_id or '?'}",
            f"case {self.stream_id or '?'} v{version}",
        ]
        if self.event_type:
            where.append(self.event_type)
        return f"[{self.check}] {self.service} {', '.join(where)}: {self.problem}"

    def as_json(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict."""
        return asdict(self)
