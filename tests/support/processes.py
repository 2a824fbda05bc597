"""Running the services' own background processes, as `make run` starts them, in tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from shared.config import Settings


@contextmanager
def service_processes(settings: Settings, modules: Sequence[str], prefix: str = "t") -> Iterator[Settings]:
    """Run ``python -m <module> <process>`` for each "module process" on fresh topics; yield
    their settings.

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
    processes = [
        subprocess.Popen([sys.executable, "-m", *m.split()], env=env, stderr=subprocess.DEVNULL)
        for m in modules
    ]
    try:
        yield prefixed
    finally:
        for process in processes:
            process.terminate()
        codes = [process.wait(30) for process in processes]
    assert codes == [0] * len(processes), (
        f"processes did not stop cleanly: {dict(zip(modules, codes, strict=True))}"
    )
