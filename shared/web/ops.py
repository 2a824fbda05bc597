"""The operations endpoints every service serves: liveness, readiness and metrics.

``/healthz`` answers while the process can answer at all: a failing one means restart it.
``/readyz`` answers 200 only when the service can do its work (its database, the token
registry and Kafka all reachable): a failing one means route no traffic to it yet, not
restart it, since restarting does not bring a database back. Its checks run in the
background (shared.web.health), so it answers at once even while a probe waits on a dead
broker. It also names each of the
service's background processes (relay, consumer, scheduler, webhooks) that is down, from
their heartbeats; a dead relay does not make the web unready (what it accepts waits in the
outbox), so it is reported, not counted against readiness.
"""

from __future__ import annotations

import time

import marshmallow as ma
import sqlalchemy as sa
from flask import Response

from shared.bus import kafka_reachable
from shared.clock import Clock
from shared.config import BACKGROUND_PROCESSES
from shared.heartbeat import process_states
from shared.logs import withheld
from shared.web import metrics
from shared.web.health import Health, HealthMonitor
from shared.web.inputs import Blueprint
from shared.web.runtime import Runtime, runtime

KAFKA_TIMEOUT_S = 2.0

blp = Blueprint("ops", __name__, description="Liveness, readiness and metrics (no token needed).")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    service = ma.fields.String(metadata={"example": "intake"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ready, or not ready"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": '"ok", or the reason the check failed', "example": {"database": "ok"}},
    )
    processes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={
            "description": 'each background process: "ok", or why it counts as down (from its heartbeats)',
            "example": {"relay": "ok", "consumer": "down: last heartbeat 42 s ago"},
        },
    )
    checked_s_ago = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "how long ago the checks ran (in the background, every 2 s)",
            "example": 0.4,
        },
    )


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """Liveness: the process is up and answering."""
    return {"status": "ok", "service": runtime().service}


@blp.route("/readyz")
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="A dependency is unreachable")
def readyz() -> tuple[dict[str, object], int]:
    """Readiness: the databases answer ``SELECT 1`` and a Kafka broker answers, as last
    checked in the background (``checked_s_ago``), so the answer never waits on a probe."""
    rt = runtime()
    if rt.health is None:
        rt.health = HealthMonitor(lambda: _probe(rt))
    health = rt.health.current()
    if health is None:
        checks, processes, age = {"readiness": "not checked yet: try again in a moment"}, {}, None
    else:
        age = round(rt.health.age_s(health), 1)
        checks, processes = dict(health.checks), health.extra["processes"]
        if age > rt.health.stale_s:
            checks["readiness"] = f"stale: last checked {age} s ago"
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, object] = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "processes": processes,
        "checked_s_ago": age,
    }
    return body, 200 if ready else 503


def _probe(rt: Runtime) -> Health:
    """One round of the readiness checks (in the monitor's thread)."""
    checks = {
        "database": _database_check(rt.engine, rt.tokens.engine),
        "kafka": kafka_reachable(rt.settings.kafka_bootstrap, KAFKA_TIMEOUT_S) or "ok",
    }
    processes = _process_check(rt.engine, rt.service, rt.clock) if checks["database"] == "ok" else {}
    return Health(checks, {"processes": processes}, time.monotonic())


@blp.route("/metrics")
@blp.doc(
    responses={"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {}}}}}
)
def prometheus_metrics() -> Response:
    """Request counts and latencies in the Prometheus text format."""
    rt = runtime()
    return metrics.render(rt.settings, metrics.WorkCollector(rt.engine, rt.service, rt.clock))


def _process_check(engine: sa.Engine, service: str, clock: Clock) -> dict[str, str]:
    if service not in BACKGROUND_PROCESSES:
        return {}
    try:
        with engine.connect() as conn:
            return process_states(conn, service, clock.now())
    except sa.exc.SQLAlchemyError as exc:
        return {"heartbeats": f"not read: {withheld(exc)}"}


def _database_check(service_engine: sa.Engine, auth_engine: sa.Engine) -> str:
    """ "ok" when both the service's database and the token registry answer, else why not."""
    for name, engine in (("service database", service_engine), ("token registry", auth_engine)):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            # The class and first line name the problem; the URL (with password) stays out.
            first_line = str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc).splitlines()[0]
            return f"{name}: {type(exc).__name__}: {first_line}"
    return "ok"
