"""Metrics for Prometheus: a request counter and a latency histogram per endpoint and status,
and gauges of the service's unfinished work and background processes (``WorkCollector``).

gunicorn runs several worker processes, each with its own counters. When
``PROMETHEUS_MULTIPROC_DIR`` is set (it must be, before the workers import this module),
prometheus_client keeps the values in files there and ``/metrics`` sums every worker's;
otherwise the process's default registry is served. The gunicorn config should call
``prometheus_client.multiprocess.mark_process_dead(worker.pid)`` in ``child_exit``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from shared.backlog import read_backlog
from shared.clock import Clock
from shared.config import BACKGROUND_PROCESSES, Settings
from shared.heartbeat import consumer_lag, process_states
from shared.logs import withheld

log = logging.getLogger(__name__)

# Module-level: a metric may be registered once per process, however many apps are built.
REQUESTS = Counter(
    "netra_http_requests_total",
    "HTTP requests answered, by service, endpoint, method and status.",
    ["service", "endpoint", "method", "status"],
)
LATENCY = Histogram(
    "netra_http_request_duration_seconds",
    "Time to answer an HTTP request, by service, endpoint, method and status.",
    ["service", "endpoint", "method", "status"],
)

# Requests that matched no route share one label, so scanners cannot grow the label set.
UNMATCHED = "<unmatched>"


def instrument(app: Flask, service: str) -> None:
    """Count and time every request ``app`` answers, errors included."""

    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is None:  # a before_request hook ahead of ours answered
            return response
        endpoint = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        labels = (service, endpoint, request.method, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return response


class WorkCollector(Collector):
    """Gauges read from the service's database at scrape time, so every worker answers the
    same: relay backlog, parked and held records, deadlines, processes up, consumer lag."""

    def __init__(self, engine: sa.Engine, service: str, clock: Clock) -> None:
        self._engine, self._service, self._clock = engine, service, clock

    def collect(self) -> Iterator[Metric]:
        """The gauges; none when the database does not answer (``/readyz`` says why)."""
        if self._service not in BACKGROUND_PROCESSES:  # an app with no background process of its own
            return
        now = self._clock.now()
        try:
            with self._engine.connect() as conn:
                backlog = read_backlog(conn, self._service)
                states = process_states(conn, self._service, now)
                lag = consumer_lag(conn, now)
        except sa.exc.SQLAlchemyError as error:
            log.warning("work gauges not read: %s", withheld(error))
            return
        for name, doc, value in (
            (
                "netra_relay_backlog_events",
                "Events appended but not yet published to Kafka.",
                backlog.relay_backlog,
            ),
            (
                "netra_inbox_parked_records",
                "Consumed records parked for a person to resolve.",
                backlog.parked,
            ),
            (
                "netra_inbox_held_records",
                "Records held behind a parked record of the same case.",
                backlog.held,
            ),
            (
                "netra_deadlines_set_aside",
                "Lapsed deadlines whose recording failed, to be retried.",
                backlog.set_aside,
            ),
        ):
            yield _gauge(name, doc, self._service, [((), value)])
        yield _gauge(
            "netra_deadlines",
            "Deadlines by status.",
            self._service,
            [((("status", status),), n) for status, n in backlog.deadlines.items()],
        )
        yield _gauge(
            "netra_process_up",
            "1 when the background process has beaten recently, else 0.",
            self._service,
            [((("process", p),), int(state == "ok")) for p, state in states.items()],
        )
        yield _gauge(
            "netra_consumer_lag_records",
            "Records not yet handled, per topic and partition.",
            self._service,
            [
                ((("topic", tp.rpartition("/")[0]), ("partition", tp.rpartition("/")[2])), n)
                for tp, n in lag.items()
            ],
        )


def _gauge(
    name: str, doc: str, service: str, samples: list[tuple[tuple[tuple[str, str], ...], int]]
) -> GaugeMetricFamily:
    labels = ["service", *(k for k, _ in samples[0][0])] if samples else ["service"]
    gauge = GaugeMetricFamily(name, doc, labels=labels)
    for pairs, value in samples:
        gauge.add_metric([service, *(v for _, v in pairs)], value)
    return gauge


def render(settings: Settings, work: Collector | None = None) -> Response:
    """The Prometheus text exposition of this process (of all workers when multiprocess),
    followed by ``work``'s gauges."""
    if settings.prometheus_multiproc_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.prometheus_multiproc_dir)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if work is not None:
        extra = CollectorRegistry()
        extra.register(work)
        body += generate_latest(extra)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
