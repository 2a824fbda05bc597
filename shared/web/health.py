"""Readiness kept fresh in the background, so ``/readyz`` answers at once.

A probe of the database and of Kafka can take seconds when either is down (Kafka's answer is
awaited up to its timeout), and a load balancer's probe with a short timeout would then see
a timeout instead of a 503. So each process re-checks in a daemon thread every
``interval_s`` and ``/readyz`` reads the latest result. The thread starts on the first
``/readyz`` of the process (again after a fork, since threads do not survive one) and stops
with the app. A result older than ``stale_s`` counts as not ready: the checker itself is stuck.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """One round of checks: each check's "ok" or reason, the body's extras, and when."""

    checks: dict[str, str]
    extra: dict[str, Any]
    checked_at: float  # time.monotonic()

    @property
    def ready(self) -> bool:
        """Whether every check said "ok"."""
        return all(v == "ok" for v in self.checks.values())


class HealthMonitor:
    """Runs ``probe`` every ``interval_s`` seconds in this process and keeps its last result."""

    def __init__(
        self,
        probe: Callable[[], Health],
        interval_s: float = 2.0,
        first_wait_s: float = 0.15,
        stale_s: float = 15.0,
    ) -> None:
        self._probe, self._interval_s = probe, interval_s
        self._first_wait_s, self.stale_s = first_wait_s, stale_s
        self._latest: Health | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def current(self) -> Health | None:
        """The latest result (waiting at most ``first_wait_s`` for the very first), or None."""
        self._ensure_running()
        with self._changed:
            if self._latest is None:
                self._changed.wait(self._first_wait_s)
            return self._latest

    def age_s(self, health: Health) -> float:
        """How long ago ``health`` was checked."""
        return time.monotonic() - health.checked_at

    def stop(self) -> None:
        """Stop the checking thread (the app is closing)."""
        self._stop.set()

    def _ensure_running(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid, self._latest = os.getpid(), None
        self._thread = threading.Thread(target=self._run, name="netra-readiness", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        previous: dict[str, str] | None = None
        while not self._stop.is_set():
            health = self._probe()
            with self._changed:
                self._latest = health
                self._changed.notify_all()
            # Said when it changes, not every round: a broker down for an hour is one line.
            if health.checks != previous:
                if not health.ready:
                    log.warning("not ready", extra={"checks": health.checks})
                elif previous is not None:
                    log.info("ready again")
                previous = health.checks
            self._stop.wait(self._interval_s)
