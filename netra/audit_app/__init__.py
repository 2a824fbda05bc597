"""The auditor app: read-only HTTP access to every service's history, for role ``auditor``.

Run it with ``gunicorn 'netra.audit_app:create_app()'`` (``make run`` serves it on 8004).

Why a fourth app rather than an endpoint in each service: a case's history spans the three
services, and services never read each other's tables. Audit tooling may read every store
read-only (as ``netra audit verify`` does), so the cross-service view lives here, beside the
CLI, and no service gains access to another's data.

It changes nothing in any service. Its own database (``audit``) is an event store like the
services': every read an auditor makes is appended there as an ``audit.case_history_read``
event, sealed and hash-chained like every other event, so the record of who looked at what
is as tamper-evident as the history itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from netra.audit_app import api
from shared.clock import Clock
from shared.config import Settings
from shared.web import build_app, settings_from

SERVICE = "audit"
PORT = 8004


def create_app(config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The auditor app: settings from the environment, or ``config`` (Settings or overrides)."""
    return build_app(SERVICE, settings_from(config), [api.blp], clock=clock)
