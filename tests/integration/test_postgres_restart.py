"""The embedded PostgreSQL killed with SIGKILL comes back on its own port, and an engine that
held connections to it carries on without a restart (issue 16: services kept the old address
and every /readyz answered 503 forever when it came back on a new port)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import sqlalchemy as sa

from shared.db import create_engine
from shared.pg_embedded import EmbeddedPostgres


def postmaster_pid(server: EmbeddedPostgres) -> int:
    return int((server.data_dir / "postmaster.pid").read_text().split()[0])


def test_a_killed_postgres_starts_again_on_its_port_and_engines_reconnect(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    engine = create_engine(url, pool_size=2, pre_ping=False)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        os.kill(postmaster_pid(server), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while server.url() is not None:
            assert time.monotonic() < deadline, "the postmaster did not die"
            time.sleep(0.1)
        # What netra run's supervisor does when it sees it dead (netra/supervisor.py, Daemon);
        # the killed server's backends may hold its shared memory for a moment.
        while True:
            try:
                again = server.start()
                break
            except Exception:
                assert time.monotonic() < deadline + 30, "PostgreSQL did not start again"
                time.sleep(1)
        assert again == url  # the same port: every process's address still holds
        answered = None
        for _ in range(3):  # the pooled connection died with the server: one failure, then fine
            try:
                with engine.connect() as conn:
                    answered = conn.execute(sa.text("SELECT 1")).scalar()
                break
            except sa.exc.OperationalError:
                continue
        assert answered == 1
    finally:
        engine.dispose()
        server.stop()
