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
from shared.web import build_app, settings_from

SERVICE = "adjudication"


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The adjudication app: settings from the environment, or ``config`` (Settings or overrides)."""
    # No domain endpoints yet: its blueprints join this list as they are written.
    return build_app(SERVICE, settings_from(config), [], clock=clock)
