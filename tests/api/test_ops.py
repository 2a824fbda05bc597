"""Liveness, readiness, metrics, the OpenAPI document, and JSON answers on every error path."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.config import Settings
from shared.db import create_engine
from shared.web import MAX_BODY_BYTES
from shared.web.runtime import runtime
from tests.api.probe import SECRET_DETAIL
from tests.conftest import start_broker
from tests.support.readiness import readiness

ERROR_KEYS = {"code", "status", "message"}


def assert_json_error(response, code: int) -> dict:
    """The response is flask-smorest's JSON error shape with ``code``."""
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"errors"}
    assert body["code"] == code
    return body


def test_healthz_answers_ok_with_the_service_name(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "service": "intake"}


@pytest.mark.parametrize("service", ["intake", "adjudication", "sanctions"])
def test_each_service_app_factory_builds_its_app(service: str, api_settings: Settings, new_database) -> None:
    from importlib import import_module

    urls = {**api_settings.database_urls, service: new_database(service)}
    app = import_module(f"services.{service}").create_app(replace(api_settings, database_urls=urls))
    try:
        assert app.test_client().get("/healthz").get_json()["service"] == service
        assert app.test_client().get("/openapi.json").get_json()["info"]["title"] == f"Netra {service}"
    finally:
        runtime(app).close()


def test_create_app_takes_overrides_of_the_environment_settings(api_settings: Settings) -> None:
    from services.intake import create_app

    app = create_app(
        {"database_urls": api_settings.database_urls, "kafka_bootstrap": api_settings.kafka_bootstrap}
    )
    try:
        assert runtime(app).settings.kafka_bootstrap == api_settings.kafka_bootstrap
    finally:
        runtime(app).close()
    with pytest.raises(ValueError, match="kafka_bootstrapp"):
        create_app({"kafka_bootstrapp": "typo"})


def test_readyz_is_ready_when_the_database_and_kafka_answer(client: FlaskClient) -> None:
    response = readiness(client, 200)
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("status", "checks")} == {
        "status": "ready",
        "checks": {"database": "ok", "kafka": "ok"},
    }
    assert set(body["processes"]) == {
        "relay",
        "consumer",
        "webhooks",
        "retention",
    }  # none runs here: each is named


def test_readyz_names_kafka_while_it_is_down_and_recovers_when_it_is_back(
    make_app: Callable[..., Flask], api_settings: Settings, tmp_path: Path
) -> None:
    broker = start_broker(tmp_path / "k")
    try:
        settings = replace(api_settings, kafka_bootstrap=broker.bootstrap)
        client = make_app(settings=settings).test_client()
        up = readiness(client, 200)
        assert up.status_code == 200, up.get_json()

        broker.stop()
        down = readiness(client, 503)
        body = down.get_json()
        assert down.status_code == 503, body
        assert body["status"] == "not ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["kafka"] != "ok"
        assert "kafka" in json.dumps(body).lower()

        broker.start()
        back = readiness(client, 200, within_s=60)
        assert back.status_code == 200, back.get_json()
    finally:
        broker.stop()


def test_readyz_names_the_database_when_it_does_not_answer(app: Flask, client: FlaskClient) -> None:
    rt = runtime(app)
    good = rt.engine
    # Nothing listens on port 1: the same failure as a PostgreSQL that went away.
    rt.engine = create_engine("postgresql+psycopg://netra@127.0.0.1:1/nowhere?connect_timeout=2")
    try:
        response = readiness(client, 503)
    finally:
        rt.engine.dispose()
        rt.engine = good
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["kafka"] == "ok"
    assert checks["database"].startswith("service database: OperationalError")


def test_openapi_json_lists_the_ops_paths_and_the_bearer_scheme(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.data)
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Netra intake"
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `netra token create`",
    }
    # An endpoint behind require_role declares the scheme; the ops endpoints need none.
    assert spec["paths"]["/probe/casework"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_docs_serve_swagger_ui_html(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"swagger-ui" in response.data
    # Served by the app itself, not a CDN: tests/api/test_web_hygiene.py.
    assert b"cdn.jsdelivr.net" not in response.data


def test_unknown_route_answers_json_404(client: FlaskClient) -> None:
    assert_json_error(client.get("/no/such/thing"), 404)


def test_wrong_method_answers_json_405_naming_the_allowed_ones(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert_json_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_body_over_one_mebibyte_answers_json_413(client: FlaskClient) -> None:
    body = assert_json_error(client.post("/probe/echo", data=b"x" * (MAX_BODY_BYTES + 1)), 413)
    assert str(MAX_BODY_BYTES) in body["message"]


def test_body_of_exactly_one_mebibyte_is_accepted(client: FlaskClient) -> None:
    text = "x" * (MAX_BODY_BYTES - len('{"text": ""}'))
    response = client.post("/probe/echo", data=json.dumps({"text": text}), content_type="application/json")
    assert response.status_code == 200


def test_malformed_json_answers_json_400(client: FlaskClient) -> None:
    for path in ("/probe/echo", "/probe/raw"):
        assert_json_error(client.post(path, data=b"{not json", content_type="application/json"), 400)


def test_non_json_body_answers_json_415(client: FlaskClient) -> None:
    assert_json_error(client.post("/probe/raw", data=b"text=1", content_type="text/plain"), 415)


def test_invalid_fields_answer_json_422_naming_them(client: FlaskClient) -> None:
    body = assert_json_error(client.post("/probe/echo", json={"text": 7}), 422)
    assert body["errors"] == {"text": ["Not a valid string."]}


def test_unexpected_exception_answers_json_500_without_traceback(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="netra.http"):
        response = client.get("/probe/boom")
    body = assert_json_error(response, 500)
    request_id = response.headers["X-Request-Id"]
    assert body == {
        "code": 500,
        "status": "Internal Server Error",
        "message": f"internal error; see the server log (request id {request_id})",
    }
    assert SECRET_DETAIL not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    # The full story is in the log, under the same request id.
    [record] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert record.exc_info is not None and SECRET_DETAIL in str(record.exc_info[1])


def test_a_concurrent_change_answers_409_naming_the_versions(client: FlaskClient) -> None:
    body = assert_json_error(client.get("/probe/race"), 409)
    assert "expected version 3, found 4" in body["message"]


def test_an_unreachable_database_answers_a_retryable_503(client: FlaskClient) -> None:
    response = client.get("/probe/db-down")
    body = assert_json_error(response, 503)
    assert "database is unavailable" in body["message"]
    assert response.headers["Retry-After"] == "5"


def test_a_deadlock_that_outlived_the_retries_is_a_409_not_a_503(client: FlaskClient) -> None:
    response = client.get("/probe/deadlock")
    body = assert_json_error(response, 409)
    assert "busy" in body["message"] and "Retry-After" not in response.headers


def test_every_response_carries_a_request_id_and_keeps_a_plain_incoming_one(client: FlaskClient) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["X-Request-Id"])
    assert client.get("/healthz", headers={"X-Request-Id": "proxy-1234abcd"}).headers["X-Request-Id"] == (
        "proxy-1234abcd"
    )
    sneaky = client.get("/healthz", headers={"X-Request-Id": 'x" level=admin'}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sneaky)


def test_metrics_count_requests_per_endpoint_and_status(client: FlaskClient) -> None:
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/thing")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    healthz = re.search(
        r'netra_http_requests_total\{endpoint="/healthz",method="GET",service="intake",status="200"\} (\S+)',
        text,
    )
    assert healthz is not None and float(healthz.group(1)) >= 3
    assert 'endpoint="<unmatched>",method="GET",service="intake",status="404"' in text
    assert 'netra_http_request_duration_seconds_bucket{endpoint="/healthz"' in text
