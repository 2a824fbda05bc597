"""The work a service has not done yet, read from its own database: events not yet on Kafka,
records parked or held by its consumer, deadlines pending or set aside. ``/metrics`` shows
these as gauges; a number that only grows is the first sign of a stuck process."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.schema import deadlines, deadlines_set_aside, events, held, outbox, quarantine


@dataclass(frozen=True)
class Backlog:
    """Counts of unfinished work in one service's database."""

    relay_backlog: int  # events appended but not yet published by the relay
    parked: int  # consumed records parked for a person (quarantine, unresolved)
    held: int  # records held behind a parked one of the same case
    deadlines: dict[str, int]  # deadlines by status (PENDING, MET, MISSED, ...)
    set_aside: int  # lapsed deadlines whose recording failed, waiting for a retry


def read_backlog(conn: sa.Connection, relay: str) -> Backlog:
    """The backlog of the service whose relay is named ``relay``."""
    appended = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0)).scalar_subquery()
    published = (
        sa.select(sa.func.coalesce(sa.func.max(outbox.c.published_position), 0))
        .where(outbox.c.relay == relay)
        .scalar_subquery()
    )
    counts = conn.execute(
        sa.select(
            appended - published,
            sa.select(sa.func.count()).where(quarantine.c.resolved_at.is_(None)).scalar_subquery(),
            sa.select(sa.func.count()).where(held.c.released_at.is_(None)).scalar_subquery(),
            sa.select(sa.func.count()).select_from(deadlines_set_aside).scalar_subquery(),
        )
    ).one()
    by_status = conn.execute(
        sa.select(deadlines.c.status, sa.func.count()).group_by(deadlines.c.status)
    ).all()
    return Backlog(
        relay_backlog=int(counts[0]),
        parked=int(counts[1]),
        held=int(counts[2]),
        deadlines={str(status): int(n) for status, n in by_status},
        set_aside=int(counts[3]),
    )
