"""The intake service: where partners' reports enter Netra.

It owns report receipt, admissibility, registration, duplicate linking, out-of-scope
forwarding, routing to KASN (legacy) or BKN by date, and the partner-facing status of a
case. It consumes the adjudication and sanctions events to keep that status current.

Run it with ``gunicorn 'services.intake:create_app()'``; its database is its own (design.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from shared.clock import Clock
from shared.config import Settings
from shared.web import build_app, settings_from

SERVICE = "intake"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The intake app: settings from the environment, or ``config`` (Settings or overrides)."""
    # No domain endpoints yet: its blueprints join this list as they are written.
    return build_app(SERVICE, settings_from(config), [], clock=clock)
