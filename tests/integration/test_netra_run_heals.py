"""``netra run`` (what ``make run`` starts) heals what dies under it (issue 16): the embedded
PostgreSQL killed with SIGKILL comes back on its own port and every service answers ready
again and accepts reports without a restart, and a killed gunicorn master is started again
instead of taking the whole system down. The real supervisor, on the session's Kafka (topics
of its own) and its own embedded PostgreSQL, on four free ports beside any other system."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.config import WEB_APPS
from shared.pg_embedded import EmbeddedPostgres
from tests.conftest import KafkaBroker

NETRA = str(Path(sys.executable).with_name("netra"))


def free_port_run(length: int) -> int:
    """The first of ``length`` consecutive ports that are free now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + length < 65536 and all(_free(first + i) for i in range(length)):
            return first
    raise AssertionError("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class System:
    """One ``netra run`` in its own home; its output in ``home/run.log``."""

    def __init__(self, home: Path, kafka: KafkaBroker) -> None:
        self.home = home
        self.port = free_port_run(len(WEB_APPS))
        drop = ("DATABASE_URL", "NETRA_DEMO", "NETRA_SCALE", "NETRA_KAFKA_BROKERS")
        self.env = {k: v for k, v in os.environ.items() if k not in drop and not k.endswith("_DATABASE_URL")}
        self.env.update(
            NETRA_HOME=str(home),
            KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
            NETRA_TOPIC_PREFIX=f"heal-{uuid.uuid4().hex[:8]}.",
            NETRA_TOPIC_PARTITIONS="3",
            NETRA_WEB_PORT=str(self.port),
        )
        self.log = home / "run.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [NETRA, "run"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        return all(_status(f"http://127.0.0.1:{self.port + i}/readyz") == 200 for i in range(len(WEB_APPS)))

    def wait(self, what: str, condition: Callable[[], bool], within_s: float) -> None:
        deadline = time.monotonic() + within_s
        while not condition():
            assert self.process.poll() is None, f"netra run exited:\n{self.output()[-4000:]}"
            assert time.monotonic() < deadline, (
                f"{what} not within {within_s:.0f} s:\n{self.output()[-4000:]}"
            )
            time.sleep(0.5)

    def partner_token(self) -> str:
        made = subprocess.run(
            [
                NETRA,
                "token",
                "create",
                "--role",
                "partner",
                "--agency",
                "Bawaslu Kab. Tabanan",
                "--channel",
                "BAWASLU",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = re.search(r"ntr_[A-Za-z0-9_-]+", made.stdout + made.stderr)
        assert token, made
        return token.group(0)

    def report(self, token: str, n: int) -> int:
        body = json.loads(json.dumps(CONTRACT_EXAMPLE))
        body["source_ref"] = f"HEAL/{n}"
        body["subject"]["nip"] = f"19800101200501100{n}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v1/reports",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"heal-{n}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def child(self, marker: str) -> int:
        """The pid of the direct child of netra run whose command line holds ``marker``."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (proc / "cmdline").read_bytes().decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if parent == self.process.pid and marker in argv:
                return int(proc.name)
        raise AssertionError(f"no child of netra run runs {marker}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


@pytest.fixture
def system(tmp_path: Path, kafka: KafkaBroker) -> Iterator[System]:
    running = System(tmp_path, kafka)
    try:
        running.wait("all four apps ready", running.ready, within_s=240)
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def test_netra_run_brings_back_a_killed_postgres_on_its_port_and_a_killed_web_master(system: System) -> None:
    token = system.partner_token()
    assert system.report(token, 1) == 201
    postgres = EmbeddedPostgres(system.home / "pg")
    address = postgres.url()
    postmaster = int((postgres.data_dir / "postmaster.pid").read_text().split()[0])

    os.kill(postmaster, signal.SIGKILL)
    system.wait("PostgreSQL dead", lambda: postgres.url() is None or not system.ready(), within_s=30)
    system.wait("every app ready again after PostgreSQL", system.ready, within_s=120)
    assert postgres.url() == address  # its old port: every process's address still holds
    assert "postgres started again" in system.output()
    assert system.report(token, 2) == 201  # no service was restarted to get here

    master = system.child("services.intake:create_app")
    os.kill(master, signal.SIGKILL)
    system.wait("a new intake master", lambda: _new_master(system, master), within_s=60)
    system.wait("every app ready again after the intake master", system.ready, within_s=60)
    assert re.search(r"intake-web exited with -9 .*starting it again", system.output())
    assert system.report(token, 3) == 201

    assert system.stop() == 0
    assert postgres.url() is None  # what netra run started, it stopped


def _new_master(system: System, old: int) -> bool:
    try:
        return system.child("services.intake:create_app") != old
    except AssertionError:
        return False
