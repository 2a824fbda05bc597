"""The intake service: where partners' reports enter Netra.

It owns report receipt, admissibility, registration, duplicate linking, out-of-scope
forwarding, routing to KASN (legacy) or BKN by date, and the partner-facing status of a
case. It consumes the adjudication and sanctions events to keep that status current.

Run it with ``gunicorn 'services.intake:create_app()'``; its database is its own
(docs/architecture.md §1). Its rooms: ``domain/`` (pure), ``handlers.py``, ``web/``,
``store/``, ``bootstrap.py`` (docs/architecture.md walks one report through them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from shared.clock import Clock
    from shared.config import Settings

SERVICE = "intake"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The intake app: settings from the environment, or ``config`` (Settings or overrides)."""
    # Imported here, so that importing the domain does not load Flask, SQLAlchemy or Kafka.
    from services.intake.bootstrap import intake_rules
    from services.intake.web import api, queries, webhooks
    from shared.web import build_app, settings_from

    app = build_app(SERVICE, settings_from(config), [api.blp, queries.blp, webhooks.blp], clock=clock)
    app.extensions[SERVICE] = intake_rules()
    return app
