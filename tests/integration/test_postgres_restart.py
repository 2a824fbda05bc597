"""The embedded PostgreSQL killed with SIGKILL comes back on its own port, and an engine that
held connections to it carries on without a restart (issue 16: services kept the old address
and every /readyz answered 503 forever when it came back on a new port)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shared import db
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


def test_a_connection_is_pinged_only_after_sitting_idle_and_a_dead_one_is_replaced_unseen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_IDLE_S", 0.5)
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    engine = create_engine(url, pool_size=1)
    pings: list[float] = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(time.monotonic())
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    try:
        for _ in range(20):  # a busy path: each checkout follows the last at once
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        assert pings == []
        os.kill(postmaster_pid(server), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while server.url() is not None:
            assert time.monotonic() < deadline, "the postmaster did not die"
            time.sleep(0.1)
        while True:  # restarted as netra run's supervisor does
            try:
                server.start()
                break
            except Exception:
                assert time.monotonic() < deadline, "PostgreSQL did not start again"
                time.sleep(1)
        with engine.connect() as conn:  # idle since before the crash: pinged, found dead, replaced
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert len(pings) == 1
    finally:
        engine.dispose()
        server.stop()
