"""A partner's webhook endpoint for tests: a real http.server on 127.0.0.1 that records
every request it is sent (method, path, headers, body) and answers 200."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header by name, case-insensitively (as HTTP means it)."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class PartnerServer:
    """Where the server listens, and what it has received so far (in arrival order)."""

    port: int
    received: list[ReceivedRequest] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def partner_server() -> Iterator[PartnerServer]:
    """Run a recording HTTP server on a free port of 127.0.0.1 for the block."""
    lock = threading.Lock()
    state: PartnerServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            assert state is not None
            with lock:
                state.received.append(
                    ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
                )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_GET = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = PartnerServer(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
