"""The adjudication service: the examination of a reported civil servant.

It owns the recommendation, the PPK's acknowledgement, summons 1 and 2, the examination
and its team, temporary release, the BAP, the finding (proven / not proven, with violation
codes and levels) and who may decide (PyBM). It consumes intake events.

Run it with ``gunicorn 'services.adjudication:create_app()'``; its database is its own (design.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from shared.clock import Clock
from shared.config import Settings
from shared.runtime import runtime
from shared.web import build_app, settings_from
from shared.workdays import WorkingCalendar

SERVICE = "adjudication"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The adjudication app: settings from the environment, or ``config`` (Settings or overrides)."""
    # Imported here: the blueprints register their routes on import.
    from services.adjudication import api, cases_api
    from services.adjudication.rules import load_rule_book
    from services.adjudication.service import Adjudication

    app = build_app(SERVICE, settings_from(config), [api.blp, cases_api.blp], clock=clock)
    rt = runtime(app)
    # Loaded once: a rule file that does not validate stops the service at start, not mid-request.
    app.extensions[SERVICE] = Adjudication(rt.engine, rt.clock, load_rule_book(), WorkingCalendar())
    return app
