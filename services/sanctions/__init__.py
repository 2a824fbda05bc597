"""The sanctions service: the ruling and what follows it.

It owns the decision within the official's authority and the rule version in force,
its delivery, keberatan / banding and their outcomes, the ruling in force, its execution,
closure, and the escalation of a PPK who does not act. It consumes adjudication events.

Run it with ``gunicorn 'services.sanctions:create_app()'``; its database is its own (design.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.sanctions import cases_api
from services.sanctions.rules import default_rule_book
from shared.clock import Clock
from shared.config import Settings
from shared.web import build_app, settings_from

SERVICE = "sanctions"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The sanctions app: settings from the environment, or ``config`` (Settings or overrides)."""
    # Loaded now: a rule file that does not validate stops the service at start.
    default_rule_book()
    # One blueprint: the case reads (cases_api) and the commands (api) share /v1/cases.
    return build_app(SERVICE, settings_from(config), [cases_api.blp], clock=clock)
