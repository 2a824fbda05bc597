"""What a running service app holds: built once by shared.web.build_app, read by views."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask, current_app

from shared.auth import TokenRegistry
from shared.clock import Clock
from shared.config import Settings
from shared.keyring import KeyStore
from shared.web.health import HealthMonitor

EXTENSION = "netra"


@dataclass
class Runtime:
    """The adapters of one service process, kept in ``app.extensions["netra"]``."""

    service: str
    settings: Settings
    engine: sa.Engine  # the service's own database
    tokens: TokenRegistry  # on the shared auth database (see shared.auth)
    keys: KeyStore  # the data keys of personal fields (see shared.keyring)
    clock: Clock
    # Readiness checked in the background, started by the first /readyz (shared.web.ops).
    health: HealthMonitor | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the connection pools (tests build many apps; gunicorn exits instead)."""
        if self.health is not None:
            self.health.stop()
        self.engine.dispose()
        self.tokens.engine.dispose()
        self.keys.engine.dispose()


def runtime(app: Flask | None = None) -> Runtime:
    """The Runtime of ``app`` (default: the app handling the current request)."""
    found = (app or current_app).extensions[EXTENSION]
    if not isinstance(found, Runtime):
        raise RuntimeError("this app was not built by shared.web.build_app")
    return found
