"""The sanctions service: the ruling and what follows it.

It owns the decision within the official's authority and the rule version in force,
its delivery, keberatan / banding and their outcomes, the ruling in force, its execution,
closure, and the escalation of a PPK who does not act. It consumes adjudication events.

Run it with ``gunicorn 'services.sanctions:create_app()'``; its database is its own (docs/architecture.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from shared.clock import Clock
    from shared.config import Settings

SERVICE = "sanctions"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The sanctions app: settings from the environment, or ``config`` (Settings or overrides)."""
    # Imported here, so that importing the domain does not load Flask, SQLAlchemy or Kafka.
    from services.sanctions.bootstrap import rule_book
    from services.sanctions.web import queries
    from shared.web import build_app, settings_from

    rule_book()
    # One blueprint: the case reads (web.queries) and the commands (web.api) share /v1/cases.
    return build_app(SERVICE, settings_from(config), [queries.blp], clock=clock)
