"""``netra run`` (what ``make run`` calls): the whole system on one machine.

Starts PostgreSQL (the embedded server unless a DATABASE_URL is configured) and Kafka (a
local KRaft broker unless one already answers at KAFKA_BOOTSTRAP_SERVERS), migrates every
database, creates the topics, then runs each service under gunicorn with its relay and its
consumer. Each process logs to NETRA_HOME/logs/<name>.log; any of them that dies (a web
master included) is started again, after a pause that grows while it keeps dying, and so are
the embedded PostgreSQL (on its own port) and the local Kafka broker when it started them.
Ctrl-C (or SIGTERM) stops everything it started, in reverse order.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shared.bus import kafka_reachable
from shared.config import DEADLINE_KEEPERS, PLATFORM_DATABASES, REPO_ROOT, SERVICES, Settings
from shared.db import prepare_database
from shared.pg_embedded import EmbeddedPostgres
from shared.processes import ensure_system_topics

KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"
GUNICORN_CONF = "python:shared.web.gunicorn_conf"


# A child that dies is started again after a pause that doubles with each death in a row
# (1, 2, 4 ... 60 s), so a child that cannot start (a port taken, a database gone) neither
# spins nor is given up on; one that ran STEADY_S counts as healthy again.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
STEADY_S = 30.0


# What netra run started and so stops: the embedded PostgreSQL, and each local broker's data
# directory (deploy/kafka/kafka.sh keeps its pid there).
Started = list[EmbeddedPostgres | Path]


def backoff_s(deaths_in_a_row: int) -> float:
    """How long to wait before starting a child that has died ``deaths_in_a_row`` times."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, deaths_in_a_row - 1))


@dataclass
class Child:
    """One supervised process, where its output goes, and when it is due to start again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float | None = None

    def start(self, now: float | None = None) -> None:
        if self.log_file:
            self.log_file.close()
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        self.started_at = time.monotonic() if now is None else now
        self.restart_at = None

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, seconds: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.log_file:
            self.log_file.close()


@dataclass
class Daemon:
    """A server the supervisor started that runs outside its children (the embedded
    PostgreSQL, the local Kafka broker): ``alive`` watches it and ``restart`` starts it again,
    with the same pauses as a child. PostgreSQL comes back on its port (shared.pg_embedded)
    and Kafka on its own, so no service needs a new address."""

    name: str
    alive: Callable[[], bool]
    restart: Callable[[], object]
    log_path: Path
    # Running since it was found (or started) by the supervisor.
    started_at: float = field(default_factory=time.monotonic)
    deaths_in_a_row: int = 0
    restart_at: float | None = None

    def start(self, now: float | None = None) -> None:
        try:
            self.restart()
        except Exception as exc:  # whatever it was, the supervisor must outlive it
            say(f"{self.name} did not start: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
        self.started_at = time.monotonic() if now is None else now
        self.restart_at = None

    def exited(self) -> int | None:
        return None if self.alive() else 1


def say(message: str) -> None:
    """Progress for the person at the terminal."""
    print(f"netra: {message}", flush=True)


def run_system(settings: Settings) -> int:
    """Run until interrupted; return the exit code."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    cleanups: Started = []
    children: list[Child] = []
    try:
        env = dict(os.environ)
        _start_postgres(settings, cleanups)
        env.update(_start_kafka(settings, cleanups))
        settings = Settings.from_env(env)
        for name in (*SERVICES, *PLATFORM_DATABASES):
            prepare_database(settings, name)
        say("databases migrated")
        ensure_system_topics(settings)
        say("topics ready (retention.ms=-1)")
        children = children_of(settings, env)
        for child in children:
            child.start()
        _wait_ready(settings, stop)
        if os.environ.get("NETRA_DEMO") == "1":
            _load_demo(settings)
        _print_summary(settings)
        _supervise([*_daemons(settings, cleanups), *children], stop)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        _shutdown(children, cleanups)


def _start_postgres(settings: Settings, cleanups: Started) -> None:
    if settings.server_url or settings.database_urls:
        say("using the configured PostgreSQL (DATABASE_URL)")
        return
    server = EmbeddedPostgres(settings.home / "pg")
    started_here = server.url() is None
    url = server.start()
    if started_here:
        cleanups.append(server)
    say(f"PostgreSQL (embedded) at {url.replace('+psycopg', '')}, data in {server.data_dir}")


def _start_kafka(settings: Settings, cleanups: Started) -> dict[str, str]:
    if kafka_reachable(settings.kafka_bootstrap, timeout_s=1.0) is None:
        say(f"using the Kafka that answers at {settings.kafka_bootstrap}")
        return {}
    host, _, port = settings.kafka_bootstrap.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"netra: Kafka at {settings.kafka_bootstrap} does not answer")
    data = settings.home / "kafka"
    brokers = max(1, int(os.environ.get("NETRA_KAFKA_BROKERS") or "1"))
    if brokers > 1:
        return _start_kafka_cluster(data, int(port), brokers, cleanups)
    say(f"starting Kafka on {settings.kafka_bootstrap} (data in {data}; first run fetches its jars)")
    subprocess.run([str(KAFKA_SH), "start", str(data), port, str(int(port) + 1)], check=True)
    cleanups.append(data)
    return {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap}


def _start_kafka_cluster(data: Path, port: int, brokers: int, cleanups: Started) -> dict[str, str]:
    """``brokers`` combined KRaft nodes on port, port+2, …: the services bootstrap from all of
    them (any one answering will do) and their topics get min(3, brokers) copies."""
    ports = [port + 2 * i for i in range(brokers)]
    say(f"starting a {brokers}-broker Kafka cluster on ports {', '.join(map(str, ports))} (data in {data})")
    subprocess.run([str(KAFKA_SH), "start-cluster", str(data), str(brokers), str(port)], check=True)
    cleanups += [data / f"node-{i}" for i in range(1, brokers + 1)]
    return {
        "KAFKA_BOOTSTRAP_SERVERS": ",".join(f"127.0.0.1:{p}" for p in ports),
        "NETRA_TOPIC_REPLICATION": str(min(3, brokers)),
    }


def children_of(settings: Settings, env: dict[str, str]) -> list[Child]:
    """Every process ``netra run`` supervises, ``NETRA_SCALE`` copies of each background one."""
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    gunicorn = str(Path(python).with_name("gunicorn"))
    scale = max(1, int(os.environ.get("NETRA_SCALE") or "1"))

    def workers(service: str, process: str, module: str | None = None) -> list[Child]:
        # SCALE copies of a background process: the relays share one leader (the advisory
        # lock), the consumers one group (each its own static instance), the schedulers the rows.
        return [
            Child(
                f"{service}-{process}" + (f"-{n}" if scale > 1 else ""),
                [python, "-m", module or f"services.{service}", process],
                {**env, "NETRA_CONSUMER_INSTANCE": str(n)},
                logs / (f"{service}-{process}" + (f"-{n}" if scale > 1 else "") + ".log"),
            )
            for n in range(1, scale + 1)
        ]

    children = []
    for service in SERVICES:
        metrics = settings.home / "metrics" / service
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        bind = f"127.0.0.1:{settings.web_ports[service]}"
        web = _gunicorn(gunicorn, bind, 2, f"services.{service}:create_app()")
        children += [
            Child(f"{service}-web", web, web_env, logs / f"{service}-web.log"),
            *workers(service, "relay"),
            *workers(service, "consumer"),
        ]
    # Adjudication and sanctions keep legal deadlines; each records the lapsed ones.
    children += [child for service in DEADLINE_KEEPERS for child in workers(service, "scheduler")]
    # The auditor app: read-only history across the services, every read recorded.
    children.append(
        Child(
            "audit-web",
            _gunicorn(
                gunicorn, f"127.0.0.1:{settings.web_ports['audit']}", 1, "netra.audit_app:create_app()"
            ),
            {**env, "PROMETHEUS_MULTIPROC_DIR": str(_fresh_dir(settings.home / "metrics" / "audit"))},
            logs / "audit-web.log",
        )
    )
    # Its relay publishes that record of reads to Kafka, like a service's relay its events.
    children += workers("audit", "relay", module="netra.audit_app")
    # Intake also delivers partners' webhooks from its durable queue, and erases by rule
    # the personal data closed cases no longer need.
    children += [
        Child(
            f"intake-{process}",
            [python, "-m", "services.intake", process],
            env,
            logs / f"intake-{process}.log",
        )
        for process in ("webhooks", "retention")
    ]
    return children


def _gunicorn(gunicorn: str, bind: str, workers: int, app: str) -> list[str]:
    """A gunicorn command line with Netra's configuration (JSON error pages, paths-only log)."""
    return [
        gunicorn,
        "-c",
        GUNICORN_CONF,
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        app,
    ]


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _wait_ready(settings: Settings, stop: threading.Event) -> None:
    for service, port in settings.web_ports.items():
        url = f"http://127.0.0.1:{port}/readyz"
        for _ in range(240):
            if stop.is_set():
                return
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            stop.wait(0.5)
        else:
            say(f"{service} is not ready after 120 s: see its log")


def _load_demo(settings: Settings) -> None:
    # Imported here: the demo needs the token registry, which only this option uses.
    from netra.demo import load_demo, summary_line
    from shared.auth import TokenRegistry
    from shared.clock import SystemClock
    from shared.db import create_engine

    engine = create_engine(settings.database_url("auth"), pool_size=1)
    try:
        results = load_demo(
            f"http://127.0.0.1:{settings.web_ports['intake']}", TokenRegistry(engine, SystemClock())
        )
    except OSError as exc:
        # The demo is a convenience: a failure is reported, and the system keeps running.
        say(f"demo data not loaded: {exc}")
        return
    finally:
        engine.dispose()
    say("demo data loaded (docs/law.md §7):")
    for result in results:
        print(f"  {summary_line(result)}", flush=True)


def _print_summary(settings: Settings) -> None:
    ports = settings.web_ports
    lines = ["", "Netra is up:"]
    for service, port in ports.items():
        lines.append(
            f"  {service:<13} http://127.0.0.1:{port}   (docs: /docs, ready: /readyz, metrics: /metrics)"
        )
    lines += [
        f"  Kafka         {settings.kafka_bootstrap}",
        "  databases     `.venv/bin/netra db url intake` (and adjudication, sanctions, auth, keyring, audit)",
        f"  logs          {settings.home / 'logs'}",
        "",
        "  a partner token: .venv/bin/netra token create --role partner "
        '--agency "Bawaslu Kab. Tabanan" --channel BAWASLU',
        "  check the log:   .venv/bin/netra audit verify   (and: audit replay, history CASE, export CASE)",
        f"  auditors:        http://127.0.0.1:{ports['audit']}/v1/audit/cases/{{case_id}}/history (role auditor)",
        f"  reporters:       http://127.0.0.1:{ports['intake']}/v1/reports/{{report_id}}/reporter (the filing partner, role "
        "privacy_officer); erase: .venv/bin/netra privacy erase --subject reporter/{report_id} --reason ... --by ...",
        "",
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


def _daemons(settings: Settings, cleanups: Started) -> list[Daemon]:
    """The servers started here, watched like children: each one dead is started again."""
    daemons = []
    for handle in cleanups:
        if isinstance(handle, EmbeddedPostgres):
            daemons.append(_postgres_daemon(handle))
        elif isinstance(handle, Path):
            daemons.append(_kafka_daemon(settings, handle))
    return daemons


def _postgres_daemon(server: EmbeddedPostgres) -> Daemon:
    return Daemon("postgres", lambda: server.url() is not None, server.start, server.log_file)


def _kafka_daemon(settings: Settings, data: Path) -> Daemon:
    if data.name.startswith("node-"):  # one node of a cluster: started again as configured
        index = int(data.name.removeprefix("node-"))
        port = settings.kafka_bootstrap.split(",")[index - 1].rpartition(":")[2]
        argv, name = [str(KAFKA_SH), "restart-node", str(data), port], f"kafka-{index}"
    else:
        _, _, port = settings.kafka_bootstrap.rpartition(":")
        argv, name = [str(KAFKA_SH), "start", str(data), port, str(int(port) + 1)], "kafka"
    return Daemon(
        name,
        lambda: _kafka_alive(data),
        lambda: subprocess.run(argv, check=True, capture_output=True),
        data / "server.log",
    )


def _kafka_alive(data: Path) -> bool:
    """Whether the broker whose pid deploy/kafka/kafka.sh wrote in ``data`` still runs."""
    try:
        os.kill(int((data / "kafka.pid").read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


Supervised = Child | Daemon


def _supervise(children: Sequence[Supervised], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        supervise_once(children, time.monotonic())


def supervise_once(children: Sequence[Supervised], now: float) -> None:
    """Start again each child that is due; schedule each that has died since the last look."""
    for child in children:
        if child.restart_at is not None:
            if now >= child.restart_at:
                try:
                    child.start(now)
                    say(f"{child.name} started again")
                except OSError as exc:  # e.g. its log directory gone: tried again after a pause
                    child.deaths_in_a_row += 1
                    child.restart_at = now + backoff_s(child.deaths_in_a_row)
                    say(
                        f"{child.name} could not be started ({exc}); trying again in {child.restart_at - now:.0f} s"
                    )
            continue
        code = child.exited()
        if code is None:
            continue
        ran_s = now - child.started_at
        child.deaths_in_a_row = 1 if ran_s >= STEADY_S else child.deaths_in_a_row + 1
        pause = backoff_s(child.deaths_in_a_row)
        child.restart_at = now + pause
        say(
            f"{child.name} exited with {code} after {ran_s:.0f} s; starting it again in {pause:.0f} s"
            f" (death {child.deaths_in_a_row} in a row; see {child.log_path})"
        )


def _shutdown(children: list[Child], cleanups: Started) -> None:
    if children:
        say("stopping services, relays and consumers")
    for child in children:
        child.stop()
    for child in children:
        child.wait(20)
    # The brokers all at once: a node stopped after the others waits 30 s for a quorum that
    # is gone. Then PostgreSQL.
    brokers = [handle for handle in cleanups if isinstance(handle, Path)]
    if brokers:
        say(f"stopping kafka ({len(brokers)} broker{'s' if len(brokers) > 1 else ''})")
        for stopping in [subprocess.Popen([str(KAFKA_SH), "stop", str(b)]) for b in brokers]:
            stopping.wait()
    for handle in reversed(cleanups):
        if isinstance(handle, EmbeddedPostgres):
            say("stopping postgres")
            handle.stop()
    say("stopped")
