"""The way production runs a service: gunicorn with several workers starting at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from shared.config import REPO_ROOT
from shared.pg_embedded import free_port
from tests.conftest import KafkaBroker

WORKERS = 3


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(url: str, proc: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited with {proc.returncode}")
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


def test_several_workers_start_at_once_on_fresh_databases_and_metrics_sum_them(
    pg_server: str, kafka: KafkaBroker, tmp_path: Path
) -> None:
    # Databases (and a KEK file) that do not exist yet: every worker races to create them.
    fresh = uuid.uuid4().hex[:10]
    server = make_url(pg_server)
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": server.set(database=f"w_intake_{fresh}").render_as_string(hide_password=False),
        "AUTH_DATABASE_URL": server.set(database=f"w_auth_{fresh}").render_as_string(hide_password=False),
        "KEYRING_DATABASE_URL": server.set(database=f"w_keyring_{fresh}").render_as_string(
            hide_password=False
        ),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "NETRA_HOME": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
    }
    (tmp_path / "prom").mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(gunicorn), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "services.intake:create_app()"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"{base}/healthz", proc)
        for _ in range(20):
            assert get(f"{base}/healthz")[0] == 200
        # Each worker checks readiness in the background: ready once its first round is in.
        deadline = time.monotonic() + 20
        while get(f"{base}/readyz")[0] != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.1)
        status, body = get(f"{base}/metrics")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = log_path.read_text()
    assert status == 200, output
    assert "Traceback" not in output, output
    # Every worker built its app (none died in the migration race)...
    built = [json.loads(line) for line in output.splitlines() if '"app built"' in line]
    assert len(built) == WORKERS, output
    # ...and /metrics sums the workers' counters, whichever worker answers it.
    found = re.search(
        rb'netra_http_requests_total\{[^}]*endpoint="/healthz"[^}]*status="200"[^}]*\} (\S+)', body
    )
    assert found is not None, body.decode()
    assert float(found.group(1)) >= 20
