"""``make chaos``: a bounded chaos run against the replicated, scaled-out system.

Starts ``netra run`` with three Kafka brokers and two of each background process
(KAFKA_BROKERS=3 SCALE=2) in a scratch home on the usual ports, keeps a steady load of new
reports on intake and of commands on the cases they open (a supervisor assigns each once),
and injects faults one at a time, then two at once: kill -9 of each process kind (relays, a
consumer, a scheduler and the webhook worker, a gunicorn worker and master), of a Kafka
broker and of the PostgreSQL postmaster, a broker paused for 10 s (SIGSTOP, SIGCONT), and two
of the three brokers killed or paused, when Kafka takes no write and the relay must say so.
After each it waits for the system to settle, then checks that every accepted report reached
adjudication exactly once and every accepted assignment was recorded exactly once, that
nothing is parked, and that ``netra audit verify`` and ``netra audit replay`` are clean. It
prints one row per fault and ``N passed, M failed``, and exits non-zero on any loss, doubling
or failure to recover.

    make chaos                  # or: python -m bench.chaos --rate 5 --settle 120
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.config import SERVICES, Settings
from shared.db import create_engine

NETRA = str(Path(sys.executable).with_name("netra"))
# netra run's default ports; the run below is started on them whatever the environment says.
WEB_PORTS = Settings(home=Path()).web_ports
INTAKE = f"http://127.0.0.1:{WEB_PORTS['intake']}"
ADJUDICATION = f"http://127.0.0.1:{WEB_PORTS['adjudication']}"


@dataclass
class Load:
    """New reports posted at a steady rate; what each answer was."""

    token: str
    rate: float
    first: int  # the number of its first report: every report of the run is a new one
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[tuple[float, str]] = field(default_factory=list)  # (when, case id)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = self.first
        while not self.stop.wait(1 / self.rate):
            status, body = _post(self.token, _report(n))
            n += 1
            self.statuses[status] += 1
            if status == 201:
                self.accepted.append((time.monotonic(), str(body["case_id"])))

    @property
    def cases(self) -> list[str]:
        """The case ids of every accepted report."""
        return [case for _, case in self.accepted]


@dataclass
class Assignments:
    """Commands on existing cases: a supervisor assigns each case the reports opened, once."""

    token: str
    reports: Load
    statuses: Counter[int] = field(default_factory=Counter)
    assigned: list[str] = field(default_factory=list)  # the cases whose assignment was accepted
    tried: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.5):
            case = next((c for c in self.reports.cases if c not in self.tried), None)
            if case is None:
                continue
            status, _, headers = _call("GET", f"{ADJUDICATION}/v1/cases/{case}", self.token)
            if status != 200:
                continue  # not opened yet (or the service is down): tried again later
            self.tried.add(case)
            status, _, _ = _call(
                "POST",
                f"{ADJUDICATION}/v1/cases/{case}/assignment",
                self.token,
                {"investigator_id": "inv.chaos"},
                {"If-Match": headers.get("ETag", "")},
            )
            self.statuses[status] += 1
            if status == 200:
                self.assigned.append(case)


def _report(n: int) -> dict[str, object]:
    """A report about a new person each time (a valid NIP unique to ``n``), so each opens a case."""
    body = json.loads(json.dumps(CONTRACT_EXAMPLE))
    birth = date(1970, 1, 1) + timedelta(days=n // 1000)
    body["subject"]["nip"] = f"{birth:%Y%m%d}200501{1 + n % 2}{n % 1000:03d}"
    body["source_ref"] = f"CHAOS/{os.getpid()}/{n}"
    return body


def _post(token: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    key = str(body["source_ref"]).replace("/", "-")
    return _call("POST", f"{INTAKE}/v1/reports", token, body, {"Idempotency-Key": key})[:2]


def _call(
    method: str,
    url: str,
    token: str,
    body: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object], dict[str, str]]:
    """Status, JSON body and headers of one request; status 0 when no answer came at all."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, {}, {}
    except (OSError, ValueError):
        return 0, {}, {}  # refused, reset, timed out, or cut off mid-answer


def _ready() -> bool:
    for port in WEB_PORTS.values():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status != 200:
                    return False
        except OSError:
            return False
    return True


def _pids(pattern: str, env_has: str | None = None) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    pids = [int(p) for p in found if int(p) != os.getpid()]
    if env_has is not None:
        pids = [p for p in pids if env_has.encode() in _read(f"/proc/{p}/environ")]
    return pids


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    return int(_read(f"/proc/{pid}/stat").decode().rsplit(")", 1)[1].split()[1] or 0)


def _kill(pids: list[int], sig: signal.Signals = signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _gunicorn(master: bool) -> list[int]:
    pids = _pids("services.intake:create_app")
    masters = [p for p in pids if _parent(p) not in pids]
    return masters if master else [p for p in pids if p not in masters][:1]


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[Path], None]
    # (log name prefix, words): what a process must have logged after the fault, when the
    # fault is one a person must be told about.
    says: tuple[str, str] | None = None


Finder = Callable[[Path], list[int]]


def _faults() -> list[Fault]:
    def pid_file(path: Path) -> list[int]:
        text = _read(str(path)).decode().split()
        return [int(text[0])] if text else []

    def broker(n: int) -> Finder:
        return lambda home: pid_file(home / "kafka" / f"node-{n}" / "kafka.pid")

    def kill(*finders: Finder) -> Callable[[Path], None]:
        return lambda home: _kill([pid for find in finders for pid in find(home)])

    def pause(seconds: float, *finders: Finder) -> Callable[[Path], None]:
        def inject(home: Path) -> None:
            pids = [pid for find in finders for pid in find(home)]
            _kill(pids, signal.SIGSTOP)
            time.sleep(seconds)
            _kill(pids, signal.SIGCONT)

        return inject

    def relays(home: Path) -> list[int]:
        return _pids("services.intake relay")

    def consumer(home: Path) -> list[int]:
        return _pids("services.adjudication consumer", "NETRA_CONSUMER_INSTANCE=1")

    def postmaster(home: Path) -> list[int]:
        return pid_file(home / "pg" / "data" / "postmaster.pid")

    def scheduler_and_webhooks(home: Path) -> list[int]:
        return _pids("services.adjudication scheduler")[:1] + _pids("services.intake webhooks")

    return [
        Fault("kill -9 both intake relays", kill(relays)),
        Fault("kill -9 an adjudication consumer", kill(consumer)),
        Fault("kill -9 a scheduler and the webhook worker", kill(scheduler_and_webhooks)),
        Fault("kill -9 an intake gunicorn worker", lambda h: _kill(_gunicorn(master=False))),
        Fault("kill -9 the intake gunicorn master", lambda h: _kill(_gunicorn(master=True))),
        Fault("kill -9 Kafka broker 2", kill(broker(2))),
        Fault("kill -9 the PostgreSQL postmaster", kill(postmaster)),
        Fault("pause Kafka broker 3 for 10 s", pause(10, broker(3))),
        Fault("at once: kill -9 a consumer and broker 2", kill(consumer, broker(2))),
        Fault("at once: kill -9 the relays and postmaster", kill(relays, postmaster)),
        Fault("at once: kill -9 brokers 2 and 3", kill(broker(2), broker(3))),
        # Two of three brokers gone: no quorum and no in-sync pair, so Kafka takes no write.
        # The reports are still accepted (the store has them); the relay must say it waits.
        Fault(
            "pause brokers 2 and 3 for 20 s",
            pause(20, broker(2), broker(3)),
            says=("intake-relay", "relay waiting on Kafka"),
        ),
    ]


@dataclass
class Row:
    fault: str
    accepted: int
    errors: dict[int, int]
    assigned: int
    command_errors: dict[int, int]
    recovered_s: float | None
    lost: int
    doubled: int
    parked: int
    verified: bool
    replayed: bool
    said: bool

    @property
    def passed(self) -> bool:
        return (
            self.recovered_s is not None
            and not self.lost
            and not self.doubled
            and not self.parked
            and self.verified
            and self.replayed
            and self.said
        )


def _count(settings: Settings, event_type: str) -> Counter[str]:
    """How many events of ``event_type`` adjudication recorded, by case."""
    engine = create_engine(settings.database_url("adjudication"), pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT stream_id, count(*) FROM events WHERE event_type = :t GROUP BY stream_id"),
                {"t": event_type},
            )
            return Counter({r[0]: r[1] for r in rows})
    finally:
        engine.dispose()


def _opened(settings: Settings) -> Counter[str]:
    """How many times adjudication opened each case."""
    return _count(settings, "adjudication.examination_opened")


def _parked(settings: Settings) -> int:
    total = 0
    for service in SERVICES:
        engine = create_engine(settings.database_url(service), pool_size=1)
        try:
            with engine.connect() as conn:
                total += conn.execute(
                    sa.text("SELECT count(*) FROM inbox_quarantine WHERE resolved_at IS NULL")
                ).scalar_one()
        finally:
            engine.dispose()
    return total


def _audit(env: dict[str, str], check: str) -> bool:
    """Whether ``netra audit verify`` (or ``replay``) finds the history whole."""
    return subprocess.run([NETRA, "audit", check, "--quiet"], env=env, capture_output=True).returncode == 0


def _log_sizes(home: Path, prefix: str) -> dict[Path, int]:
    return {path: path.stat().st_size for path in (home / "logs").glob(f"{prefix}*.log")}


def _logged_since(sizes: dict[Path, int], words: str) -> bool:
    """Whether any of the logs has ``words`` past the size it had."""
    for path, size in sizes.items():
        with path.open("rb") as log:
            log.seek(size)
            if words.encode() in log.read():
                return True
    return False


def _recovered(settings: Settings, load: Load, since: float) -> bool:
    """All four services ready, and a report accepted after ``since`` has reached adjudication."""
    later = [case for at, case in list(load.accepted) if at > since]
    if not later or not _ready():
        return False
    try:
        return bool(_opened(settings)[later[-1]])
    except sa.exc.SQLAlchemyError:
        return False


def _settled(settings: Settings, load: Load, limit_s: float) -> bool:
    """Every accepted report has reached adjudication within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            opened = _opened(settings)
            if _ready() and all(opened[c] for c in load.cases):
                return True
        time.sleep(1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=5.0, help="new reports per second")
    parser.add_argument("--settle", type=float, default=180.0, help="seconds allowed to recover")
    parser.add_argument("--dwell", type=float, default=15.0, help="seconds of load after each fault")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="netra-chaos-"))
    env = {
        **os.environ,
        "NETRA_HOME": str(home),
        "NETRA_KAFKA_BROKERS": "3",
        "NETRA_SCALE": "2",
        "NETRA_WEB_PORT": str(WEB_PORTS["intake"]),
    }
    log = (home / "run.log").open("wb")
    system = subprocess.Popen([NETRA, "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"chaos: starting netra run (KAFKA_BROKERS=3 SCALE=2) in {home}", flush=True)
    try:
        deadline = time.monotonic() + 600
        while not _ready():
            if system.poll() is not None or time.monotonic() > deadline:
                print(f"chaos: the system did not come up; see {home / 'run.log'}")
                return 2
            time.sleep(2)
        partner = _token(env, "--role", "partner", "--agency", "Bawaslu Kab. Tabanan", "--channel", "BAWASLU")
        # The supervisor of the agency the example report's subject works for.
        supervisor = _token(
            env, "--role", "supervisor", "--identity", "sup.chaos", "--agency", "Pemerintah Provinsi Bali"
        )
        settings = Settings(home=home)
        rows = []
        for i, fault in enumerate(_faults(), start=1):
            load = Load(partner, args.rate, first=10_000 * i)
            rows.append(_run_fault(fault, settings, env, load, Assignments(supervisor, load), args))
    finally:
        system.send_signal(signal.SIGINT)
        try:
            system.wait(180)
        except subprocess.TimeoutExpired:
            system.kill()
        log.close()
    _print(rows, args.rate)
    return 0 if all(r.passed for r in rows) else 1


def _token(env: dict[str, str], *options: str) -> str:
    made = subprocess.run(
        [NETRA, "token", "create", *options], env=env, capture_output=True, text=True, check=True
    )
    token = re.search(r"ntr_[A-Za-z0-9_-]+", made.stdout + made.stderr)
    assert token, "no token printed"
    return token.group(0)


def _run_fault(
    fault: Fault,
    settings: Settings,
    env: dict[str, str],
    load: Load,
    commands: Assignments,
    args: argparse.Namespace,
) -> Row:
    """Load, inject the fault, and time the recovery: from the fault until the services are
    ready and a report accepted after it has reached adjudication; then let every accepted
    report arrive and check the invariants."""
    threads = [threading.Thread(target=work.run, daemon=True) for work in (load, commands)]
    for thread in threads:
        thread.start()
    time.sleep(5)
    print(f"chaos: {fault.name}", flush=True)
    logs = _log_sizes(settings.home, fault.says[0]) if fault.says else {}
    started = time.monotonic()
    fault.inject(settings.home)
    injected = time.monotonic()
    recovered = None
    while recovered is None and time.monotonic() - started < args.settle:
        if _recovered(settings, load, injected):
            recovered = time.monotonic() - started
        time.sleep(0.5)
    time.sleep(max(0.0, args.dwell - (time.monotonic() - started)))
    load.stop.set()
    commands.stop.set()
    for thread in threads:
        thread.join()
    if not _settled(settings, load, args.settle):
        recovered = None
    opened = _opened(settings)
    assigned = _count(settings, "adjudication.investigator_assigned")
    return Row(
        fault=fault.name,
        accepted=len(load.accepted),
        errors={s: n for s, n in sorted(load.statuses.items()) if s != 201},
        assigned=len(commands.assigned),
        command_errors={s: n for s, n in sorted(commands.statuses.items()) if s != 200},
        recovered_s=recovered,
        lost=sum(1 for c in load.cases if not opened[c])
        + sum(1 for c in commands.assigned if not assigned[c]),
        doubled=sum(1 for c in load.cases if opened[c] > 1)
        + sum(1 for c in commands.tried if assigned[c] > 1),
        parked=_parked(settings),
        verified=_audit(env, "verify"),
        replayed=_audit(env, "replay"),
        said=fault.says is None or _logged_since(logs, fault.says[1]),
    )


def _print(rows: list[Row], rate: float) -> None:
    print(
        f"\n{'fault':<44} {'load':>5} {'accepted':>8} {'errors':<16} {'assigned':>8} {'errors':<12}"
        f" {'recovered':>9} {'lost':>4} {'doubled':>7} {'parked':>6}  verify  replay  said"
    )
    for r in rows:
        recovered = f"{r.recovered_s:.0f} s" if r.recovered_s is not None else "NO"
        print(
            f"{r.fault:<44} {rate:>3.0f}/s {r.accepted:>8} {_statuses(r.errors):<16} {r.assigned:>8}"
            f" {_statuses(r.command_errors):<12} {recovered:>9} {r.lost:>4} {r.doubled:>7} {r.parked:>6}"
            f"  {'ok' if r.verified else 'FLAWS':<6}  {'ok' if r.replayed else 'DIFFER':<6}  {'ok' if r.said else 'NO'}"
        )
    passed = sum(r.passed for r in rows)
    print(f"\n{passed} passed, {len(rows) - passed} failed")


def _statuses(counts: dict[int, int]) -> str:
    return ", ".join(f"{s or 'none'}×{n}" for s, n in counts.items()) or "-"


if __name__ == "__main__":
    sys.exit(main())
