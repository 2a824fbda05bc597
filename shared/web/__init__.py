"""The Flask application every service runs: built by ``build_app`` from its ``create_app``.

What every service gets here, so no service does it differently:
  - settings read once, its database and the token registry created and migrated on start
    (several gunicorn workers may start at once: the migration env takes an advisory lock);
  - flask-smorest with the OpenAPI document at ``/openapi.json``, and Swagger UI at ``/docs``
    served from the app itself, no CDN (shared.web.docs);
  - ``/healthz``, ``/readyz`` and ``/metrics`` (shared.web.ops);
  - JSON error bodies for every error, in flask-smorest's shape
    ``{"code", "status", "message", "errors"?}``: never an HTML page or a stack trace;
    invalid input is always ``{"errors": {"dotted.path": [messages]}}`` (shared.web.validation),
    hostile input (deep nesting, NUL, huge numbers, absurd pages) is refused before any view
    runs (shared.web.inputs),
    and the domain's refusals (shared.refusals) answer 409, 412 or 422 (shared.web.answers);
  - a request id on every response (``X-Request-Id``) and in the log lines about it;
  - security headers on every response: nosniff, no referrer, no framing, a CSP that allows
    nothing (the ``/docs`` page its own), ``Cache-Control: no-store`` (shared.web.headers).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from flask import Flask, Response, g, request
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.auth import SECURITY_SCHEME, TokenRegistry
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db import create_engine, is_contention, prepare_database
from shared.eventstore import ConcurrencyError
from shared.keyring import KeyStore, kek_source
from shared.logs import configure_logging
from shared.refusals import IllegalTransition, RuleViolation, RuleViolations, StaleVersion
from shared.web import docs, metrics, ops
from shared.web.answers import illegal_transition, rule_violation, stale_version
from shared.web.headers import add_security_headers
from shared.web.inputs import check_request
from shared.web.runtime import EXTENSION, Runtime
from shared.web.validation import flatten_located_errors

log = logging.getLogger("netra.http")

MAX_BODY_BYTES = 1024 * 1024
# An incoming X-Request-Id is kept (a proxy's id joins our logs to its own) only when it is
# short and plain, so a client cannot write arbitrary text into our log lines.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class NetraApi(Api):
    """flask-smorest's Api, whose error bodies always carry a ``message``."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        """flask-smorest's JSON error, with werkzeug's description when no message was given
        and werkzeug's own headers (a 405 must say ``Allow``) kept."""
        payload, code, headers = super().handle_http_exception(error)
        if "messages" in (getattr(error, "data", None) or {}) and isinstance(payload.get("errors"), Mapping):
            # webargs (schema-validated arguments) keys errors by location ({"json": {...},
            # "query": {...}}); every answer uses the one flat shape docs/partner-api.md promises.
            payload["errors"] = flatten_located_errors(payload["errors"])
            payload.setdefault("message", "invalid input: " + ", ".join(sorted(payload["errors"])))
        if "message" not in payload and error.description:
            payload["message"] = error.description
        own = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return payload, code, {**own, **(headers or {})}


def settings_from(config: Settings | Mapping[str, Any] | None) -> Settings:
    """The settings of a ``create_app(config)`` call.

    None reads the environment; a Settings is used as given; a mapping overrides fields of
    the environment's settings (``{"kafka_bootstrap": "127.0.0.1:19092"}``), for tests.
    """
    if config is None:
        return Settings.from_env()
    if isinstance(config, Settings):
        return config
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown settings {unknown}: known ones are {sorted(known)}")
    return replace(Settings.from_env(), **config)


def build_app(
    service: str,
    settings: Settings | None,
    blueprints: Sequence[Blueprint],
    *,
    clock: Clock | None = None,
) -> Flask:
    """A ready-to-serve app for ``service`` with its domain ``blueprints`` registered.

    Creates and migrates the service's database and the shared token registry first, so a
    fresh machine needs no manual step. The app's Runtime is ``app.extensions["netra"]``.
    """
    settings = settings or Settings.from_env()
    configure_logging(settings)
    prepare_database(settings, service)
    prepare_database(settings, "auth")
    prepare_database(settings, "keyring")
    clock = clock or SystemClock()

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE=f"Netra {service}",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        # No OPENAPI_SWAGGER_UI_PATH: shared.web.docs serves /docs, without an inline script.
    )
    app.extensions[EXTENSION] = Runtime(
        service=service,
        settings=settings,
        engine=create_engine(settings.database_url(service)),
        # Verifying a token is one indexed lookup, mostly cached: a small pool is enough.
        tokens=TokenRegistry(create_engine(settings.database_url("auth"), pool_size=2), clock),
        # Personal fields are opened rarely (a named role's read, a decree): a small pool.
        keys=KeyStore(
            create_engine(settings.database_url("keyring"), pool_size=2),
            kek_source(settings),
            clock,
        ),
        clock=clock,
    )

    # Order matters: the request id and timer come first so even a rejected body has both.
    app.before_request(_assign_request_id)
    metrics.instrument(app, service)
    app.before_request(_reject_large_body)
    app.before_request(check_request)
    app.after_request(_send_request_id)
    app.after_request(add_security_headers)
    app.register_error_handler(ConcurrencyError, _conflict)
    app.register_error_handler(IllegalTransition, illegal_transition)
    app.register_error_handler(StaleVersion, stale_version)
    app.register_error_handler(RuleViolation, rule_violation)
    app.register_error_handler(RuleViolations, rule_violation)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _internal_error)

    api = NetraApi(app)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A token from `netra token create`"},
    )
    docs.register(app, api.spec.title, "api-docs.openapi_json")
    api.register_blueprint(ops.blp)
    for blp in blueprints:
        api.register_blueprint(blp)
    log.info("app built", extra={"service": service, "blueprints": [b.name for b in blueprints]})
    return app


def request_id() -> str:
    """The id of the current request, as sent back in ``X-Request-Id`` and logged."""
    rid = g.get("request_id")
    return rid if isinstance(rid, str) else "-"


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if CLIENT_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _reject_large_body() -> None:
    # MAX_CONTENT_LENGTH alone only bites when a view reads the body; refusing up front
    # answers 413 the same way everywhere and spares reading a body we will not use.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise RequestEntityTooLarge(f"the request body may be at most {MAX_BODY_BYTES} bytes")


def _send_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = request_id()
    started = g.get("request_started")
    # Path only: a query string or a header could carry a token or personal data.
    log.info(
        "request",
        extra={
            "request_id": request_id(),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
    return response


def _conflict(error: ConcurrencyError) -> Any:
    """Another command changed the case first: the client reloads and decides again."""
    body = {
        "code": 409,
        "status": "Conflict",
        "message": f"the case changed while this request was handled: {error}; reload it and retry",
    }
    return body, 409


def _database_unavailable(error: OperationalError) -> Any:
    """PostgreSQL is unreachable: a retryable 503, not an internal error. A deadlock or
    serialization failure that outlived the command's own retries is the case being busy:
    409, so the client reloads and decides again, as after any other concurrent change."""
    rid = request_id()
    if is_contention(error):
        log.warning("contention outlived the retries: %s", error, extra={"request_id": rid})
        body = {
            "code": 409,
            "status": "Conflict",
            "message": f"the case is busy with another change; reload it and retry (request id {rid})",
        }
        return body, 409
    log.error("database unavailable: %s", error, extra={"request_id": rid})
    body = {
        "code": 503,
        "status": "Service Unavailable",
        "message": f"the database is unavailable; retry shortly (request id {rid})",
    }
    return body, 503, {"Retry-After": "5"}


def _internal_error(error: Exception) -> Any:
    """Any exception a view did not expect: log it in full, answer a JSON 500 without details."""
    # HTTPExceptions never get here: flask-smorest's handler for them is the closer match.
    rid = request_id()
    log.exception(
        "unhandled error", extra={"request_id": rid, "method": request.method, "path": request.path}
    )
    body = {
        "code": 500,
        "status": "Internal Server Error",
        "message": f"internal error; see the server log (request id {rid})",
    }
    return body, 500
