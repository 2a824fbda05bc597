"""Running the services' own background processes, as `make run` starts them, in tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from shared.config import Settings


@contextmanager
def service_processes(
    settings: Settings, modules: Sequence[str], prefix: str = "t", log_dir: Path | None = None
) -> Iterator[Settings]:
    """Run ``python -m <module> <process>`` for each "module process" on fresh topics; yield
    their settings. Their log lines (stderr) go to ``log_dir/<module>-<process>.log`` when
    ``log_dir`` is given, else nowhere.

    On exit every process gets SIGTERM and must stop cleanly (exit code 0).
    """
    prefixed = replace(settings, topic_prefix=f"{prefix}{uuid.uuid4().hex[:6]}.")
    env = {
        **os.environ,
        **{f"{name.upper()}_DATABASE_URL": url for name, url in prefixed.database_urls.items()},
        "KAFKA_BOOTSTRAP_SERVERS": prefixed.kafka_bootstrap,
        "NETRA_TOPIC_PREFIX": prefixed.topic_prefix,
        "NETRA_TOPIC_PARTITIONS": "3",
    }
    logs = [
        (log_dir / f"{m.replace(' ', '-')}.log").open("wb") if log_dir else subprocess.DEVNULL
        for m in modules
    ]
    processes = [
        subprocess.Popen([sys.executable, "-m", *m.split()], env=env, stderr=log)
        for m, log in zip(modules, logs, strict=True)
    ]
    try:
        yield prefixed
    finally:
        for process in processes:
            process.terminate()
        codes = [process.wait(30) for process in processes]
        for log in logs:
            if not isinstance(log, int):
                log.close()
    assert codes == [0] * len(processes), (
        f"processes did not stop cleanly: {dict(zip(modules, codes, strict=True))}"
    )
