"""`netra run` starts again any child that dies, after a pause that doubles while it keeps
dying, without waiting on one child while another needs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netra.supervisor import BACKOFF_MAX_S, STEADY_S, Child, Daemon, backoff_s, children_of, supervise_once
from shared.config import Settings


def child(tmp_path: Path, name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code], dict(os.environ), tmp_path / f"{name}.log")


def test_the_pause_doubles_from_one_second_up_to_a_minute() -> None:
    assert [backoff_s(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert BACKOFF_MAX_S == 60


def test_a_killed_child_is_started_again_after_its_pause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sleeper = child(tmp_path, "relay", "import time; time.sleep(60)")
    sleeper.start(now=100.0)
    first = sleeper.process
    assert first is not None
    try:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        supervise_once([sleeper], now=101.0)
        assert sleeper.process is first and sleeper.restart_at == 102.0  # one second: first death
        supervise_once([sleeper], now=101.5)
        assert sleeper.process is first  # not yet due
        supervise_once([sleeper], now=102.0)
        assert sleeper.process is not first and sleeper.exited() is None  # alive again
    finally:
        sleeper.stop()
        sleeper.wait(10)
    said = capsys.readouterr().out
    assert "relay exited with -9 after 1 s; starting it again in 1 s (death 1 in a row" in said
    assert "relay started again" in said


def test_a_child_that_keeps_dying_waits_longer_each_time_and_others_are_not_held_up(tmp_path: Path) -> None:
    crasher = child(tmp_path, "web", "raise SystemExit(3)")
    healthy = child(tmp_path, "consumer", "import time; time.sleep(60)")
    now = 0.0
    crasher.start(now)
    healthy.start(now)
    pauses = []
    try:
        for _ in range(4):
            assert crasher.process is not None
            crasher.process.wait(10)
            now += 0.5
            supervise_once([crasher, healthy], now)
            assert crasher.restart_at is not None
            pauses.append(crasher.restart_at - now)
            now = crasher.restart_at
            supervise_once([crasher, healthy], now)  # starts it again
        assert pauses == [1, 2, 4, 8]
        assert healthy.exited() is None  # supervising the crasher never stopped the others
        assert crasher.process is not None
        crasher.process.wait(10)
        now += STEADY_S  # ran long enough to count as healthy: the next pause is short again
        supervise_once([crasher, healthy], now)
        assert crasher.restart_at == now + 1
    finally:
        for c in (crasher, healthy):
            c.stop()
            c.wait(10)


def test_a_server_started_outside_the_children_is_started_again_when_it_dies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the embedded PostgreSQL and the local Kafka broker are watched: alive, and restart.
    servers: list[subprocess.Popen[bytes]] = []

    def restart() -> None:
        servers.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))

    daemon = Daemon("postgres", lambda: servers[-1].poll() is None, restart, tmp_path / "pg.log")
    daemon.start(now=0.0)
    try:
        supervise_once([daemon], now=5.0)
        assert len(servers) == 1  # alive: left alone
        servers[-1].kill()
        servers[-1].wait(10)
        supervise_once([daemon], now=40.0)
        assert daemon.restart_at == 41.0 and len(servers) == 1  # ran 40 s: a first death, 1 s pause
        supervise_once([daemon], now=41.0)
        assert len(servers) == 2 and daemon.exited() is None
    finally:
        for server in servers:
            server.kill()
            server.wait(10)
    said = capsys.readouterr().out
    assert "postgres exited with 1 after 40 s; starting it again in 1 s" in said
    assert "postgres started again" in said


def test_scale_two_runs_two_of_each_background_process_each_consumer_its_own_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETRA_SCALE", "2")
    children = {c.name: c for c in children_of(Settings(home=tmp_path), dict(os.environ))}
    consumers = [c for name, c in children.items() if name.startswith("adjudication-consumer")]
    assert [c.name for c in consumers] == ["adjudication-consumer-1", "adjudication-consumer-2"]
    assert [c.env["NETRA_CONSUMER_INSTANCE"] for c in consumers] == ["1", "2"]
    assert {"sanctions-relay-1", "sanctions-relay-2", "sanctions-scheduler-2", "audit-relay-2"} <= set(
        children
    )
    assert "intake-web" in children and "intake-web-2" not in children  # gunicorn has its workers
    monkeypatch.delenv("NETRA_SCALE")
    assert "adjudication-consumer" in {c.name for c in children_of(Settings(home=tmp_path), dict(os.environ))}


def test_a_child_that_cannot_even_be_started_is_tried_again_without_stopping_the_supervisor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = Child("relay", [str(tmp_path / "no-such-program")], dict(os.environ), tmp_path / "relay.log")
    gone.restart_at = 10.0
    supervise_once([gone], now=10.0)
    assert gone.restart_at == 11.0 and gone.process is None  # a first failure: one second
    supervise_once([gone], now=11.0)
    assert gone.restart_at == 13.0  # then it waits longer, as a child that keeps dying does
    assert "relay could not be started" in capsys.readouterr().out
