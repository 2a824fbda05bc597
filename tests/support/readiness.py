"""Reading /readyz, which is checked in the background: wait for the answer a test expects."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient


def ready_when(client: FlaskClient, wanted: Callable[[Any], bool], within_s: float = 20.0) -> Any:
    """The first /readyz answer whose response satisfies ``wanted`` (the last one if none does
    within ``within_s``). Each answer must come at once: readiness never waits on a probe
    (a dead broker holds a probe for 2 s)."""
    deadline = time.monotonic() + within_s
    while True:
        asked = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - asked < 1.0, "readiness waited on a probe"
        if wanted(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def readiness(client: FlaskClient, status: int, within_s: float = 20.0) -> Any:
    """The /readyz answer once its status is ``status``."""
    return ready_when(client, lambda r: r.status_code == status, within_s)


def processes_when(client: FlaskClient, wanted: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """The ``processes`` of /readyz once ``wanted`` holds for them."""
    found: dict[str, str] = ready_when(client, lambda r: wanted(r.get_json()["processes"])).get_json()[
        "processes"
    ]
    return found
