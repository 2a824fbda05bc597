"""Progress on stderr for long runs: a line every few seconds, never on every event."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts work and reports it at most every ``every_s`` seconds."""

    def __init__(self, label: str, *, stream: TextIO | None = None, every_s: float = 2.0) -> None:
        self.label = label
        self.count = 0
        self._stream = stream
        self._every = every_s
        self._started = self._last = time.monotonic()

    def step(self, n: int = 1) -> None:
        """Record ``n`` more units of work, printing a line when one is due."""
        self.count += n
        now = time.monotonic()
        if self._stream is not None and now - self._last >= self._every:
            self._last = now
            rate = self.count / max(now - self._started, 1e-9)
            print(f"netra audit: {self.label}: {self.count} events ({rate:,.0f}/s)", file=self._stream)

    @classmethod
    def to_stderr(cls, label: str, enabled: bool = True) -> Progress:
        """A Progress printing to stderr, or a silent one."""
        return cls(label, stream=sys.stderr if enabled else None)
