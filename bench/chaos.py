"""``make chaos``: a bounded chaos run against the replicated, scaled-out system.

Starts ``netra run`` with three Kafka brokers and two of each background process
(KAFKA_BROKERS=3 SCALE=2) in a scratch home on the usual ports, keeps a steady load of new
reports on intake, and injects one fault at a time: kill -9 of both intake relays, of an
adjudication consumer, of an intake gunicorn worker and of its master, of a Kafka broker and
of the PostgreSQL postmaster, and a broker paused for 10 s (SIGSTOP, SIGCONT). After each it
waits for the system to settle, then checks that every accepted report reached adjudication
exactly once, that nothing is parked, and that ``netra audit verify`` is clean. It prints one
row per fault and ``N passed, M failed``, and exits non-zero on any loss, doubling or failure
to recover.

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
PORTS = (8001, 8002, 8003, 8004)


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


def _report(n: int) -> dict[str, object]:
    """A report about a new person each time (a valid, unique NIP), so each opens a case."""
    body = json.loads(json.dumps(CONTRACT_EXAMPLE))
    birth = date(1970, 1, 1) + timedelta(days=n % 5000)
    body["subject"]["nip"] = f"{birth:%Y%m%d}200501{1 + n % 2}{n % 1000:03d}"
    body["source_ref"] = f"CHAOS/{os.getpid()}/{n}"
    return body


def _post(token: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        "http://127.0.0.1:8001/v1/reports",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(body["source_ref"]).replace("/", "-"),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:
        return 0, {}  # no answer at all (refused, reset, timed out)


def _ready() -> bool:
    for port in PORTS:
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


def _faults() -> list[Fault]:
    def pid_file(path: Path) -> list[int]:
        text = _read(str(path)).decode().split()
        return [int(text[0])] if text else []

    def pause_broker(home: Path) -> None:
        pids = pid_file(home / "kafka" / "node-3" / "kafka.pid")
        _kill(pids, signal.SIGSTOP)
        time.sleep(10)
        _kill(pids, signal.SIGCONT)

    return [
        Fault("kill -9 both intake relays", lambda h: _kill(_pids("services.intake relay"))),
        Fault(
            "kill -9 an adjudication consumer",
            lambda h: _kill(_pids("services.adjudication consumer", "NETRA_CONSUMER_INSTANCE=1")),
        ),
        Fault("kill -9 an intake gunicorn worker", lambda h: _kill(_gunicorn(master=False))),
        Fault("kill -9 the intake gunicorn master", lambda h: _kill(_gunicorn(master=True))),
        Fault("kill -9 Kafka broker 2", lambda h: _kill(pid_file(h / "kafka" / "node-2" / "kafka.pid"))),
        Fault(
            "kill -9 the PostgreSQL postmaster",
            lambda h: _kill(pid_file(h / "pg" / "data" / "postmaster.pid")),
        ),
        Fault("pause Kafka broker 3 for 10 s", pause_broker),
    ]


@dataclass
class Row:
    fault: str
    accepted: int
    errors: dict[int, int]
    recovered_s: float | None
    lost: int
    doubled: int
    parked: int
    verified: bool

    @property
    def passed(self) -> bool:
        return (
            self.recovered_s is not None
            and not self.lost
            and not self.doubled
            and not self.parked
            and self.verified
        )


def _opened(settings: Settings) -> Counter[str]:
    """How many times adjudication opened each case."""
    engine = create_engine(settings.database_url("adjudication"), pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT stream_id, count(*) FROM events WHERE event_type = :t GROUP BY stream_id"),
                {"t": "adjudication.examination_opened"},
            )
            return Counter({r[0]: r[1] for r in rows})
    finally:
        engine.dispose()


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


def _verified(env: dict[str, str]) -> bool:
    return subprocess.run([NETRA, "audit", "verify", "--quiet"], env=env, capture_output=True).returncode == 0


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
    env = {**os.environ, "NETRA_HOME": str(home), "NETRA_KAFKA_BROKERS": "3", "NETRA_SCALE": "2"}
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
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = re.search(r"ntr_[A-Za-z0-9_-]+", made.stdout + made.stderr)
        assert token, "no token printed"
        settings = Settings(home=home)
        rows = [
            _run_fault(fault, settings, env, Load(token.group(0), args.rate, first=10_000 * i), args)
            for i, fault in enumerate(_faults(), start=1)
        ]
    finally:
        system.send_signal(signal.SIGINT)
        try:
            system.wait(180)
        except subprocess.TimeoutExpired:
            system.kill()
        log.close()
    _print(rows, args.rate)
    return 0 if all(r.passed for r in rows) else 1


def _run_fault(
    fault: Fault, settings: Settings, env: dict[str, str], load: Load, args: argparse.Namespace
) -> Row:
    """Load, inject the fault, and time the recovery: from the fault until the services are
    ready and a report accepted after it has reached adjudication; then let every accepted
    report arrive and check the invariants."""
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    time.sleep(5)
    print(f"chaos: {fault.name}", flush=True)
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
    thread.join()
    if not _settled(settings, load, args.settle):
        recovered = None
    opened = _opened(settings)
    return Row(
        fault=fault.name,
        accepted=len(load.accepted),
        errors={s: n for s, n in sorted(load.statuses.items()) if s != 201},
        recovered_s=recovered,
        lost=sum(1 for c in load.cases if not opened[c]),
        doubled=sum(1 for c in load.cases if opened[c] > 1),
        parked=_parked(settings),
        verified=_verified(env),
    )


def _print(rows: list[Row], rate: float) -> None:
    print(
        f"\n{'fault':<38} {'load':>7} {'accepted':>8} {'client errors':<22} {'recovered':>9} {'lost':>4} {'doubled':>7} {'parked':>6}  verify"
    )
    for r in rows:
        errors = ", ".join(f"{s or 'none'}×{n}" for s, n in r.errors.items()) or "-"
        recovered = f"{r.recovered_s:.0f} s" if r.recovered_s is not None else "NO"
        print(
            f"{r.fault:<38} {rate:>5.0f}/s {r.accepted:>8} {errors:<22} {recovered:>9} {r.lost:>4} {r.doubled:>7} "
            f"{r.parked:>6}  {'ok' if r.verified else 'FLAWS'}"
        )
    passed = sum(r.passed for r in rows)
    print(f"\n{passed} passed, {len(rows) - passed} failed")


if __name__ == "__main__":
    sys.exit(main())
