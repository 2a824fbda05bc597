"""Gunicorn answers some requests before any Netra app sees them (a request line or headers over
its limits, a request it cannot parse). With Netra's configuration those answers are JSON too,
and the access log names the path without its query string."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.web.headers import API_CSP
from tests.conftest import free_port


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The smallest WSGI app: gunicorn's own answers are under test, not the app's."""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    port, log = free_port(), tmp_path_factory.mktemp("gunicorn") / "access.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [gunicorn, "-c", "python:shared.web.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen([*argv, "--access-logfile", str(log), "tests.api.test_gunicorn_errors:hello"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port, log
    finally:
        process.terminate()
        process.wait(20)


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` as it is and read the whole answer: status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"\x00\x01garbage\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    ],
    ids=["long request line", "too many headers", "long header", "garbage", "unknown transfer coding"],
)
def test_gunicorns_own_errors_are_json(server: tuple[int, Path], raw: bytes, status: int) -> None:
    code, headers, body = exchange(server[0], raw)
    assert code == status, body
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == API_CSP
    assert headers["cache-control"] == "no-store"
    answer = json.loads(body)
    assert answer["code"] == status and isinstance(answer["message"], str), answer


def test_the_access_log_has_the_path_but_not_the_query(server: tuple[int, Path]) -> None:
    port, log = server
    code, _, _ = exchange(port, b"GET /v1/cases?nip=198503122010011004 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert code == 200
    deadline = time.monotonic() + 10
    while (
        "/v1/cases" not in (text := log.read_text() if log.exists() else "") and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert '"GET /v1/cases HTTP/1.1" 200' in text
    assert "198503122010011004" not in text
