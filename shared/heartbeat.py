"""Heartbeats of a service's background processes (relay, consumer, scheduler, webhooks).

Each process beats into its service's ``process_heartbeats`` table every few seconds from a
thread of its own, so ``/readyz`` and ``/metrics`` can say which process is down without
asking the supervisor, which may run on another machine. A process is down when no instance
of it has beaten for ``STALE_AFTER_S``: a stopped process and a killed one look the same,
which is what an operator needs to see.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from shared.clock import Clock, SystemClock
from shared.config import BACKGROUND_PROCESSES
from shared.logs import withheld
from shared.schema import heartbeats

log = logging.getLogger(__name__)

INTERVAL_S = 5.0
STALE_AFTER_S = 15.0
# Rows of instances gone this long are deleted, so the table does not grow with restarts.
FORGET_AFTER = timedelta(days=1)


class Heartbeat:
    """Beats for one process instance; ``detail`` says what it reports about itself."""

    def __init__(
        self,
        engine: sa.Engine,
        process: str,
        detail: Callable[[], dict[str, Any]] = dict,
        clock: Clock | None = None,
    ) -> None:
        self.process = process
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self._engine = engine
        self._detail = detail
        self._clock = clock or SystemClock()
        self._started_at = self._clock.now()

    def beat(self) -> None:
        """Record that this instance is alive now, with its latest detail."""
        now = self._clock.now()
        row = {"beat_at": now, "detail": self._detail()}
        upsert = insert(heartbeats).values(
            process=self.process, instance=self.instance, started_at=self._started_at, **row
        )
        with self._engine.begin() as conn:
            conn.execute(upsert.on_conflict_do_update(index_elements=["process", "instance"], set_=row))
            conn.execute(sa.delete(heartbeats).where(heartbeats.c.beat_at < now - FORGET_AFTER))

    def keep_beating(self, stop: threading.Event, interval_s: float = INTERVAL_S) -> threading.Thread:
        """Beat every ``interval_s`` in a daemon thread until ``stop`` is set."""

        def loop() -> None:
            while True:
                try:
                    self.beat()
                except sa.exc.SQLAlchemyError as error:  # the database is away: beat when back
                    log.warning(
                        "heartbeat not recorded: %s", withheld(error), extra={"process": self.process}
                    )
                if stop.wait(interval_s):
                    return

        thread = threading.Thread(target=loop, name=f"{self.process}-heartbeat", daemon=True)
        thread.start()
        return thread


def process_states(conn: sa.Connection, service: str, now: datetime) -> dict[str, str]:
    """Each expected background process of ``service``: "ok", or why it is counted as down."""
    last = dict(
        conn.execute(
            sa.select(heartbeats.c.process, sa.func.max(heartbeats.c.beat_at)).group_by(heartbeats.c.process)
        ).all()
    )
    states = {}
    for process in BACKGROUND_PROCESSES.get(service, ()):
        beat_at = last.get(process)
        if beat_at is None:
            states[process] = "down: never seen"
        elif (age := (now - beat_at).total_seconds()) > STALE_AFTER_S:
            states[process] = f"down: last heartbeat {age:.0f} s ago"
        else:
            states[process] = "ok"
    return states


def consumer_lag(conn: sa.Connection, now: datetime) -> dict[str, int]:
    """The lag per ``topic/partition`` the live consumer instances last reported."""
    live = (heartbeats.c.process == "consumer") & (
        heartbeats.c.beat_at >= now - timedelta(seconds=STALE_AFTER_S)
    )
    details = conn.execute(
        sa.select(heartbeats.c.detail).where(live).order_by(heartbeats.c.beat_at)
    ).scalars()
    lag: dict[str, int] = {}
    for detail in details:  # oldest first: a partition's newest owner has the last word
        lag.update({str(k): int(v) for k, v in (detail or {}).get("lag", {}).items()})
    return lag
