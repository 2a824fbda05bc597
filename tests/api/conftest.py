"""Fixtures for the web layer: an intake app on fresh databases and the session broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from shared.auth import TokenRegistry
from shared.clock import ManualClock
from shared.config import Settings
from shared.web import build_app
from shared.web.runtime import runtime
from tests.api.apps import Service, build_services, close_services
from tests.api.probe import probe_blueprint
from tests.conftest import KafkaBroker, NewDatabase


@pytest.fixture
def api_settings(kafka: KafkaBroker, new_database: NewDatabase, tmp_path: Path) -> Settings:
    """Settings with only what one service's app needs: its database and the token registry."""
    urls = {
        "intake": new_database("intake"),
        "auth": new_database("auth"),
        "keyring": new_database("keyring"),
    }
    return Settings(home=tmp_path, database_urls=urls, kafka_bootstrap=kafka.bootstrap, log_format="text")


@pytest.fixture
def make_app(api_settings: Settings, clock: ManualClock) -> Iterator[Callable[..., Flask]]:
    """Factory: an intake app with the given blueprints; its pools are closed afterwards."""
    built: list[Flask] = []

    def make(blueprints: Sequence[Blueprint] = (), settings: Settings | None = None) -> Flask:
        app = build_app("intake", settings or api_settings, list(blueprints), clock=clock)
        built.append(app)
        return app

    yield make
    for app in built:
        runtime(app).close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An intake app with the test-only probe endpoints."""
    return make_app([probe_blueprint()])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> TokenRegistry:
    """The app's own token registry (revoking through it takes effect at once)."""
    return runtime(app).tokens


@pytest.fixture(scope="module")
def services(
    new_database: NewDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Service]]:
    """The four apps, built once for the module (building one migrates its databases)."""
    built = build_services(new_database, tmp_path_factory.mktemp("hostile"))
    yield built
    close_services(built)
