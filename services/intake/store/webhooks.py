"""Partner webhooks (docs/partner-api.md, "Webhooks"): registration, queueing, signing, backoff.

A stage change is queued in ``webhook_deliveries`` in the same transaction that records it,
so a change is never lost and never announced without having happened; the worker
(``services.intake.webhook_worker``) sends the queued rows at least once, retrying with
backoff until the partner answers 2xx. The pure pieces (body, signature, backoff) live here
so that tests and partners' reference code can call them directly.

The partner's signing secret is stored sealed (shared.keyring), under a data key of its own,
subject ``webhook/<partner identity>``, kept in the key store's database, not intake's:
``webhooks.secret`` holds only ``{"sealed": ..., "subject": ..., ...}``. The worker
opens it once per claimed batch per partner (each opening recorded in ``key_uses``). A row
from before migration 0007 holds the secret as a plain JSON string: it is still read, and is
sealed when the partner next registers (the migration cannot reach the key store).

``DestinationPolicy`` decides where a delivery may go, at registration and again before each
delivery: https, or http to a host an administrator allow-lists (``NETRA_WEBHOOK_HTTP_HOSTS``);
no ``user:pw@``, no fragment, no numeric host spelling but a standard one; and a host that
resolves only to public addresses, unless allow-listed. A webhook is otherwise a way for a
partner to make Netra POST to its own internal network and read back the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import sqlalchemy as sa

from shared.keyring import KeyringError, KeyStore, is_sealed, seal, unseal

PENDING = "PENDING"
DELIVERED = "DELIVERED"
FAILED_RETRYING = "FAILED_RETRYING"
STATUSES = (PENDING, DELIVERED, FAILED_RETRYING)

SIGNATURE_HEADER = "X-Netra-Signature"
DELIVERY_HEADER = "X-Netra-Delivery"

FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)


def render_body(*, report_id: str, case_id: str, stage: str, at: datetime, event_id: str) -> bytes:
    """The JSON body POSTed to the partner: compact, keys in the contract's order.

    These exact bytes are stored and signed, so a retry sends what was signed the first time.
    """
    if at.tzinfo is None:
        raise ValueError("a stage change needs a timezone-aware instant")
    document = {
        "report_id": str(report_id),
        "case_id": str(case_id),
        "stage": stage,
        "at": at.astimezone(UTC).isoformat(),
        "event_id": event_id,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Netra-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``body`` with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is ``sign(secret, body)`` (constant-time, as partners should check)."""
    return hmac.compare_digest(sign(secret, body), signature)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s … capped at 10 min.

    There is no give-up: at the cap a partner endpoint down for days is tried every 10 minutes
    and loses nothing.
    """
    if attempts < 1:
        return timedelta(0)
    # The exponent is bounded so a row with a huge attempt count cannot overflow timedelta.
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


# The key store's record of whose key a webhook secret's is, and what each use was for.
OWNER = "intake"
REGISTER_PURPOSE = "webhook-register"
SIGN_PURPOSE = "webhook-sign"


def secret_subject(partner: str) -> str:
    """The data subject of ``partner``'s webhook secret, in the key store."""
    return f"webhook/{partner}"


def seal_secret(keys: KeyStore, partner: str, secret: str) -> dict[str, str]:
    """``secret`` sealed under ``partner``'s webhook key, created on its first registration
    (committed before anything is sealed under it) and fetched, one recorded use, on the next.
    ``Erased`` when an administrator erased that key: it can never be issued again."""
    subject = secret_subject(partner)
    return seal(keys.key_for(subject, owner=OWNER, purpose=REGISTER_PURPOSE, actor=partner), subject, secret)


def is_legacy_secret(stored: Any) -> bool:
    """Whether a stored secret is a plain one from before migration 0007 (not sealed)."""
    return isinstance(stored, str)


def open_secret(keys: KeyStore, partner: str, stored: Any, *, actor: str) -> str:
    """The clear secret of ``partner``'s webhook as ``webhooks.secret`` holds it: unsealed
    under its key (one use, recorded for ``actor``), or a legacy plain value as it is.

    ``Erased`` when the key was erased; ``KeyringError`` when the value does not open (not
    sealed under this partner's subject, a missing key or KEK). Never the secret in either."""
    if is_legacy_secret(stored):
        return str(stored)
    subject = secret_subject(partner)
    # The subject is checked too: a row copied from another partner must not sign as it.
    if not is_sealed(stored) or stored["subject"] != subject:
        raise KeyringError(f"the webhook secret stored for {subject} is not sealed under it")
    secret = unseal(keys.data_key(subject, purpose=SIGN_PURPOSE, actor=actor), stored)
    if not isinstance(secret, str):
        raise KeyringError(f"the webhook secret sealed under {subject} is not a string")
    return secret


def register_webhook(
    conn: sa.Connection, *, partner: str, url: str, sealed_secret: Mapping[str, Any], now: datetime
) -> None:
    """Register or replace ``partner``'s callback.

    ``url`` must have passed ``DestinationPolicy.check``; ``sealed_secret`` is what
    ``seal_secret`` gave for this partner: a clear secret is refused (ValueError), so none
    can reach this table. The secret is never logged and never answered.
    """
    if not is_sealed(sealed_secret) or sealed_secret["subject"] != secret_subject(partner):
        raise ValueError(f"the webhook secret must be sealed under {secret_subject(partner)}")
    conn.execute(
        sa.text(
            "INSERT INTO webhooks (partner, url, secret, updated_at) "
            "VALUES (:p, :u, CAST(:s AS jsonb), :now) "
            "ON CONFLICT (partner) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, "
            "updated_at = EXCLUDED.updated_at"
        ),
        {"p": partner, "u": url, "s": json.dumps(dict(sealed_secret)), "now": now},
    )


def enqueue_stage_change(
    conn: sa.Connection,
    *,
    case_id: str,
    stage: str,
    at: datetime,
    event_id: str,
    report_id: str | None = None,
) -> int:
    """Queue one webhook delivery per report of that case whose partner registered a webhook
    (only ``report_id``'s, when given: a new report entering RECEIVED); return how many.

    Call it in the transaction that records the stage change. A re-processed event queues
    nothing new: ``(partner, report_id, event_id)`` is unique and conflicts are skipped.
    """
    targets = conn.execute(
        sa.text(
            "SELECT r.report_id, r.partner FROM intake_reports r "
            "JOIN webhooks w ON w.partner = r.partner "
            "WHERE r.case_id = CAST(:case_id AS uuid) "
            "AND (CAST(:report_id AS uuid) IS NULL OR r.report_id = CAST(:report_id AS uuid)) "
            "ORDER BY r.received_at, r.report_id"
        ),
        {"case_id": str(case_id), "report_id": report_id},
    ).all()
    queued = 0
    for report_id, partner in targets:
        body = render_body(
            report_id=str(report_id), case_id=str(case_id), stage=stage, at=at, event_id=event_id
        )
        inserted = conn.execute(
            sa.text(
                "INSERT INTO webhook_deliveries (partner, report_id, case_id, stage, event_id, body, "
                "status, attempts, next_attempt_at, created_at) "
                "VALUES (:partner, :report_id, CAST(:case_id AS uuid), :stage, :event_id, :body, "
                # Due from the instant of the change: the worker's clock, not the database's,
                # decides when it is sent.
                "'PENDING', 0, :at, now()) "
                "ON CONFLICT (partner, report_id, event_id) DO NOTHING RETURNING id"
            ),
            {
                "partner": partner,
                "report_id": report_id,
                "case_id": str(case_id),
                "stage": stage,
                "event_id": event_id,
                "body": body.decode(),
                "at": at,
            },
        ).first()
        queued += inserted is not None
    return queued


def deliveries_of(
    conn: sa.Connection, partner: str, *, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """``partner``'s deliveries, newest first, one page of them, and how many there are in all."""
    total = conn.execute(
        sa.text("SELECT count(*) FROM webhook_deliveries WHERE partner = :p"), {"p": partner}
    ).scalar_one()
    rows = conn.execute(
        sa.text(
            "SELECT id, report_id, case_id, stage, event_id, status, attempts, last_status_code, "
            "last_error, next_attempt_at, created_at, delivered_at FROM webhook_deliveries "
            "WHERE partner = :p ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {"p": partner, "limit": limit, "offset": offset},
    ).all()
    return int(total), [row._asdict() for row in rows]


# --- where a delivery may go -------------------------------------------------------------

MAX_URL_CHARS = 2048
# (host, port) -> the addresses the name has now; raises OSError when it has none.
Resolver = Callable[[str, int], Sequence[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Each refusal in Bahasa Indonesia, then in English. None names an address a host resolved to:
# the partner reads these (422, and a delivery's last_error), and must learn nothing of ours.
NOT_A_URL = "bukan URL yang valid / not a valid URL"
NEEDS_HTTPS = (
    "URL harus https://; http:// hanya untuk host yang diizinkan administrator / "
    "the URL must be https://; http:// only for hosts an administrator allow-lists"
)
NO_USERINFO = (
    "URL tidak boleh memuat nama pengguna atau kata sandi (user:pw@) / "
    "the URL must not carry a user name or password (user:pw@)"
)
NO_FRAGMENT = "URL tidak boleh memuat fragmen (#...) / the URL must not carry a fragment (#...)"
NUMERIC_HOST = (
    "host harus nama DNS atau alamat IP dalam bentuk baku; angka desimal, heksadesimal atau "
    "oktal ditolak / the host must be a DNS name or an IP address in standard form; decimal, "
    "hexadecimal or octal spellings are refused"
)
BAD_HOST = "host bukan nama DNS yang valid / the host is not a valid DNS name"
NOT_ASCII = (
    "path dan query harus ASCII (pakai percent-encoding) / "
    "the path and query must be ASCII (percent-encode other characters)"
)
UNRESOLVED = "host tidak dapat di-resolve / the host does not resolve"
NOT_PUBLIC = (
    "host menunjuk ke alamat yang bukan publik (loopback, privat, link-local, shared, multicast, "
    "dicadangkan); webhook hanya dikirim ke alamat publik / the host points to an address that "
    "is not public (loopback, private, link-local, shared, multicast, reserved); webhooks go to "
    "public addresses only"
)

# Space, control characters and the backslash that some parsers read as a slash.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# The WHATWG URL standard's "ends in a number": such a host is an IPv4 address in some
# spelling (2130706433, 0x7f000001, 0177.0.0.1, 127.1), which only a dotted quad may be here.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedDestination(ValueError):
    """A webhook URL Netra does not send to; ``str()`` says why (one of the texts above)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` has now, from the system's resolver, in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: whom to ask, over what, for what."""

    scheme: str  # "https" or "http"
    host: str  # a lowercase ASCII (IDNA) name, or an IP address in standard form
    port: int
    path: str  # path and query, as they go on the request line
    allow_listed: bool  # the administrator allow-lists this host


@dataclass(frozen=True)
class Destination:
    """A target and the addresses it was checked at: connect to these, never resolve again."""

    target: Target
    addresses: tuple[str, ...]


def normal_host(host: str) -> str:
    """``host`` as the policy compares it: lowercase, IDNA, no brackets or trailing dot, an IP
    address in its standard form. Raises RefusedDestination for a host no URL may have."""
    host = host.strip().lower().removeprefix("[").removesuffix("]")
    if "%" in host:
        _refuse(BAD_HOST)  # percent-encoding, or an IPv6 zone id ("%eth0"): an interface of ours
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            _refuse(BAD_HOST)
    host = host.removesuffix(".")
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return str(ipaddress.IPv4Address(host))  # a dotted quad, no leading zeros
        except ValueError:
            _refuse(NUMERIC_HOST)
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        _refuse(BAD_HOST)
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        _refuse(BAD_HOST)
    return ascii_host


def _refuse(reason: str) -> NoReturn:
    raise RefusedDestination(reason)


def is_public(address: Address) -> bool:
    """Whether ``address`` is on the public internet: ``is_global`` and neither multicast nor
    reserved, judged on the IPv4 address inside an IPv4-mapped or NAT64 one, and on both
    ends of a 6to4 or Teredo one."""
    inside = _embedded_ipv4(address)
    if inside is not None:
        return is_public(inside)
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
        if address.teredo is not None and not all(is_public(end) for end in address.teredo):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _may_reach_allow_listed(address: Address) -> bool:
    """An allow-listed host may be internal (an intranet partner, a test server) but still
    not "any address", multicast, or link-local (where cloud metadata services answer)."""
    address = _embedded_ipv4(address) or address
    return not (address.is_unspecified or address.is_multicast or address.is_link_local)


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (``::ffff:a.b.c.d``) or NAT64 address reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class DestinationPolicy:
    """Where webhooks may go. ``http_hosts``: the administrator's allow-list (normal hosts):
    plain http and non-public addresses are allowed for those only. ``resolver``: how a
    name becomes addresses (the system's; tests give their own)."""

    http_hosts: frozenset[str] = frozenset()
    resolver: Resolver = system_resolver

    @classmethod
    def of(cls, http_hosts: Iterable[str], resolver: Resolver = system_resolver) -> DestinationPolicy:
        """A policy allow-listing ``http_hosts`` as an administrator writes them."""
        hosts = set()
        for host in http_hosts:
            try:
                hosts.add(normal_host(host))
            except RefusedDestination:
                continue  # no URL can name such a host, so listing it allows nothing
        return cls(frozenset(hosts), resolver)

    def check(self, url: str) -> Destination:
        """``url`` as a destination checked now, or RefusedDestination saying why not."""
        return self.resolve(self.parse(url))

    def parse(self, url: str) -> Target:
        """What ``url`` may say, without looking the host up."""
        if len(url) > MAX_URL_CHARS or _UNSAFE_CHARS.search(url):
            _refuse(NOT_A_URL)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            _refuse(NOT_A_URL)
        if not parts.scheme or not parts.netloc:
            _refuse(NOT_A_URL)
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            _refuse(NEEDS_HTTPS)
        if "@" in parts.netloc:
            _refuse(NO_USERINFO)
        if "#" in url:
            _refuse(NO_FRAGMENT)
        if not parts.hostname or port == 0:
            _refuse(NOT_A_URL)
        host = normal_host(parts.hostname)
        allow_listed = host in self.http_hosts
        if scheme == "http" and not allow_listed:
            _refuse(NEEDS_HTTPS)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not path.isascii():
            _refuse(NOT_ASCII)
        default_port = 443 if scheme == "https" else 80
        return Target(scheme, host, port or default_port, path, allow_listed)

    def resolve(self, target: Target) -> Destination:
        """``target`` with the addresses its host has now, each of them allowed."""
        try:
            answers = [str(ipaddress.ip_address(target.host))]
        except ValueError:
            try:
                answers = list(dict.fromkeys(self.resolver(target.host, target.port)))
            except (OSError, UnicodeError):
                _refuse(UNRESOLVED)
        if not answers:
            _refuse(UNRESOLVED)
        allowed = _may_reach_allow_listed if target.allow_listed else is_public
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                _refuse(UNRESOLVED)
            # Every answer, not one: the connection may use any, and a name that mixes a
            # public address with an internal one is a trick, not a partner.
            if not allowed(address):
                _refuse(NOT_PUBLIC)
        return Destination(target, tuple(answers))
