"""HTTP metrics for Prometheus: a request counter and a latency histogram per endpoint and status.

gunicorn runs several worker processes, each with its own counters. When
``PROMETHEUS_MULTIPROC_DIR`` is set (it must be, before the workers import this module),
prometheus_client keeps the values in files there and ``/metrics`` sums every worker's;
otherwise the process's default registry is served. The gunicorn config should call
``prometheus_client.multiprocess.mark_process_dead(worker.pid)`` in ``child_exit``.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from shared.config import Settings

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


def render(settings: Settings) -> Response:
    """The Prometheus text exposition of this process, or of all workers when multiprocess."""
    if settings.prometheus_multiproc_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.prometheus_multiproc_dir)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
