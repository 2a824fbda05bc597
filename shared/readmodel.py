"""The contract between a service's read models and ``netra audit replay``.

Each service declares ``READ_MODEL`` in ``services/<service>/readmodel.py``: the tables that
hold its read models and the one function that projects an event of its own log into them.
The command side calls ``project`` on every envelope it appends, in the same transaction, and
replay calls the same function on the envelopes read back from Kafka into a scratch database;
so a difference between the two is a real finding (a lost event, an edited row, a projection
that read the clock), never two implementations drifting apart.

A projection is a pure function of the envelope and the rows already projected: it never
reads the clock, draws random ids or looks at another service's data.

``project_many`` is optional and only for replay: given envelopes in log order, it must
leave exactly the rows ``project`` would leave applied to each in turn (it may batch the
writes, and keep in memory what it wrote itself instead of reading it back). The command
side always calls ``project``; replay calls ``project_many`` where a service declares one.

``REDERIVE`` maps the event types whose payload a pure decider computed to a function that
recomputes that event from the events before it in the same case stream; replay compares
the result with what was recorded, byte for byte (canonical JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from shared.envelope import Envelope, NewEvent

Project = Callable[[sa.Connection, Envelope], None]
ProjectMany = Callable[[sa.Connection, Sequence[Envelope]], None]
Rederive = Callable[[Envelope, Sequence[Envelope]], NewEvent]


@dataclass(frozen=True)
class ReadModel:
    """A service's read models as a function of its own event log."""

    service: str
    # Tables replay rebuilds and diffs, each ordered by its primary key.
    tables: tuple[str, ...]
    project: Project
    # Event type -> recompute that event from the prior events of its stream.
    rederive: Mapping[str, Rederive] = field(default_factory=dict)
    # Optional, for replay: the same rows as ``project`` on each envelope in turn, batched.
    project_many: ProjectMany | None = None

    def project_batch(self, conn: sa.Connection, envelopes: Sequence[Envelope]) -> None:
        """``envelopes`` projected in order: through ``project_many`` if declared, else one by one."""
        if self.project_many is not None:
            self.project_many(conn, envelopes)
        else:
            for envelope in envelopes:
                self.project(conn, envelope)


def project_all(conn: sa.Connection, model: ReadModel, envelopes: Sequence[Envelope]) -> None:
    """Project freshly appended envelopes, in order, inside the caller's transaction."""
    for envelope in envelopes:
        model.project(conn, envelope)
