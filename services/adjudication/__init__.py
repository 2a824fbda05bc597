"""The adjudication service: the examination of a reported civil servant.

It owns the recommendation, the PPK's acknowledgement, summons 1 and 2, the examination
and its team, temporary release, the BAP, the finding (proven / not proven, with violation
codes and levels) and who may decide (PyBM). It consumes intake events.

Run it with ``gunicorn 'services.adjudication:create_app()'``; its database is its own
(docs/architecture.md §1). Its rooms: ``domain/`` (pure), ``handlers.py``, ``web/``,
``store/``, ``bootstrap.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from shared.clock import Clock
    from shared.config import Settings

SERVICE = "adjudication"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The adjudication app: settings from the environment, or ``config`` (Settings or overrides)."""
    # Imported here, so that importing the domain does not load Flask, SQLAlchemy or Kafka.
    from services.adjudication.bootstrap import command_side
    from services.adjudication.web import api, queries
    from shared.web import build_app, settings_from
    from shared.web.runtime import runtime

    app = build_app(SERVICE, settings_from(config), [api.blp, queries.blp], clock=clock)
    rt = runtime(app)
    app.extensions[SERVICE] = command_side(rt.engine, rt.clock)
    return app
