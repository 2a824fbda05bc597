"""A partner's webhook endpoint for tests: a real http.server on 127.0.0.1 that records
every request it is sent (method, path, headers, body) and answers 200.

Its URL names it ``HOST`` (partner.test), not 127.0.0.1: webhooks go only to https and public
addresses unless an administrator allow-lists the host. The tests do what an administrator
would, ``allow_listed(settings)`` (NETRA_WEBHOOK_HTTP_HOSTS), and give the app and the worker
a DNS, ``Dns``, in which that name is 127.0.0.1. No real DNS knows it (.test is reserved).

``self_signed_certificate`` makes an https partner's certificate with the ``cryptography``
package, so no test needs the ``openssl`` command.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.config import Settings

HOST = "partner.test"


def allow_listed(settings: Settings, *hosts: str) -> Settings:
    """``settings`` with ``hosts`` (default: HOST) allow-listed for webhooks, as an
    administrator sets NETRA_WEBHOOK_HTTP_HOSTS."""
    return dataclasses.replace(
        settings, webhook_http_hosts=(*settings.webhook_http_hosts, *(hosts or (HOST,)))
    )


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for the DNS name ``name`` (P-256, valid for a day) and its
    key, written as PEM to ``directory``: (certificate file, key file). It is its own CA, as
    ``openssl req -x509`` makes one, so a client trusts it by loading it as its CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@dataclass
class Dns:
    """A resolver (``DestinationPolicy.resolver``) whose answers a test sets and changes:
    HOST is 127.0.0.1 unless told otherwise; a name it does not know does not resolve."""

    answers: dict[str, list[str]] = field(default_factory=lambda: {HOST: ["127.0.0.1"]})
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.answers[host])


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
        return f"http://{HOST}:{self.port}{path}"


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
