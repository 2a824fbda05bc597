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

from services.intake import api, cases_api, webhook_api
from services.intake.rules import load_rule_book
from shared.clock import Clock
from shared.config import Settings
from shared.web import build_app, settings_from
from shared.workdays import WorkingCalendar

SERVICE = "intake"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The intake app: settings from the environment, or ``config`` (Settings or overrides)."""
    app = build_app(SERVICE, settings_from(config), [api.blp, cases_api.blp, webhook_api.blp], clock=clock)
    # Loaded once: a rule file that does not validate stops the service at start, not mid-request.
    app.extensions["intake"] = api.IntakeRules(rules=load_rule_book(), calendar=WorkingCalendar())
    return app
