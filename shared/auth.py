"""Bearer tokens: who is calling, in which role, for which agency, holding which offices.

A token is ``ntr_`` + 43 random URL-safe characters. Only its SHA-256 is stored, so a copy
of the table does not let anyone call the API; the raw token is shown once, at creation.

Where tokens live: one ``auth`` database (``settings.database_url("auth")``) that all three
services read. Identity is platform infrastructure, like Kafka, not case data: a partner's
token must work at intake and an official's at sanctions, and revoking a token must stop
it everywhere at once, which per-service copies kept in step over Kafka could not promise.
The services still never read each other's case tables; this is the one database they
share, and it holds no case data.

Revocation takes effect within ``CACHE_TTL`` (30 s) in every process: ``verify`` keeps
known tokens in a small in-process cache so most requests cost no query. The process that
revokes forgets the token at once.

An official's token also records the offices (*jabatan*) its holder holds, e.g.
``PPK_KABUPATEN_KOTA``: sanctions lets it sign a decision only in one of them, so the
capacity a decision is signed in is bound to the token, not taken from the request body.
The names are sanctions' vocabulary (``services.sanctions.domain.rules.OFFICIALS``); shared
code imports no service, so ``netra token create`` checks them against that list and this
module checks only their shape.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, cast

import sqlalchemy as sa
from flask import current_app, g, request
from flask_smorest import Blueprint
from flask_smorest import abort as _abort

from shared.clock import Clock

ROLES = ("partner", "investigator", "supervisor", "official", "auditor", "privacy_officer", "admin")
CHANNELS = ("BAWASLU", "BKN", "INSPEKTORAT", "ATASAN_LANGSUNG", "PUBLIC_PORTAL")

TOKEN_PREFIX = "ntr_"
CACHE_TTL = timedelta(seconds=30)
# Bounds the cache's memory; past it the cache starts over (a query per token, no harm).
CACHE_MAX = 10_000
# Short prefixes would make a typo revoke the wrong token.
MIN_REVOKE_PREFIX = 8
# An office's name as sanctions spells it (PPK_KABUPATEN_KOTA, JPT_PRATAMA, ...).
OFFICE_NAME = re.compile(r"[A-Z][A-Z_]{0,63}")
# The name of the OpenAPI security scheme that shared.web declares.
SECURITY_SCHEME = "bearerAuth"

# flask-smorest's abort (JSON error bodies), typed: it always raises.
abort: Callable[..., NoReturn] = _abort

tokens_table = sa.Table(
    "tokens",
    sa.MetaData(),
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("agency", sa.Text),
    sa.Column("channel", sa.Text),
    # A JSON list of office names; [] for every role but official (auth migration 0002).
    sa.Column("offices", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Identity:
    """The caller of a request: recorded as the actor of every command it issues."""

    id: str
    role: str
    agency: str | None = None
    channel: str | None = None
    # The offices an official holds and may sign in (sanctions); () for other roles.
    offices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenInfo:
    """A registry row as an administrator sees it: never the token itself."""

    token_hash: str
    identity: str
    role: str
    agency: str | None
    channel: str | None
    offices: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRegistry:
    """Creates, verifies, revokes and lists bearer tokens in the ``auth`` database."""

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._cache: dict[str, tuple[Identity, datetime]] = {}
        self._lock = threading.Lock()

    def create(
        self,
        identity: str,
        role: str,
        agency: str | None = None,
        channel: str | None = None,
        offices: Sequence[str] = (),
    ) -> str:
        """Register a new token for ``identity`` in ``role`` and return it (shown only now).

        A partner must name its agency and the channel its reports arrive through; other roles
        may name an agency (an official acts for one) but not a channel. Only an official holds
        ``offices``: the capacities sanctions lets it sign in (duplicates are dropped).
        """
        _validate(identity, role, agency, channel, offices)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                tokens_table.insert().values(
                    token_hash=hash_token(token),
                    identity=identity,
                    role=role,
                    agency=agency,
                    channel=channel,
                    offices=list(dict.fromkeys(offices)),
                    created_at=self.clock.now(),
                )
            )
        return token

    def verify(self, token: str) -> Identity | None:
        """The identity ``token`` stands for, or None when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None  # not ours: no need to ask the database
        digest = hash_token(token)
        now = self.clock.now()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tokens_table).where(
                    tokens_table.c.token_hash == digest, tokens_table.c.revoked_at.is_(None)
                )
            ).first()
        with self._lock:
            if row is None:
                # Unknown tokens are not cached: a flood of guesses must not fill memory.
                self._cache.pop(digest, None)
                return None
            found = Identity(row.identity, row.role, row.agency, row.channel, tuple(row.offices))
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (found, now + CACHE_TTL)
        return found

    def revoke(self, token_or_prefix: str) -> str:
        """Revoke a token given itself or a prefix (8+ hex digits) of its hash; return its hash.

        Revoking a revoked token keeps its first revocation time. Raises ValueError when
        nothing, or more than one token, matches.
        """
        if token_or_prefix.startswith(TOKEN_PREFIX):
            condition = tokens_table.c.token_hash == hash_token(token_or_prefix)
        else:
            prefix = token_or_prefix.lower()
            if not re.fullmatch(f"[0-9a-f]{{{MIN_REVOKE_PREFIX},64}}", prefix):
                raise ValueError(
                    f"give the token itself or at least {MIN_REVOKE_PREFIX} hex digits of its hash "
                    "(as `list` shows it)"
                )
            condition = tokens_table.c.token_hash.startswith(prefix, autoescape=True)
        with self.engine.begin() as conn:
            hashes = conn.execute(sa.select(tokens_table.c.token_hash).where(condition)).scalars().all()
            if not hashes:
                raise ValueError("no token matches")
            if len(hashes) > 1:
                raise ValueError(f"{len(hashes)} tokens match {token_or_prefix!r}: give a longer prefix")
            conn.execute(
                tokens_table.update()
                .where(tokens_table.c.token_hash == hashes[0], tokens_table.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
        with self._lock:
            self._cache.pop(hashes[0], None)
        return hashes[0]

    def list(self) -> list[TokenInfo]:
        """Every token ever created, oldest first, revoked ones included."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tokens_table).order_by(tokens_table.c.created_at)).all()
        return [TokenInfo(**{**row._mapping, "offices": tuple(row.offices)}) for row in rows]


def _validate(
    identity: str, role: str, agency: str | None, channel: str | None, offices: Sequence[str]
) -> None:
    """Reject a token that could not be used correctly, saying what to change."""
    if not identity or not identity.strip():
        raise ValueError("identity must not be empty")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    if role == "partner":
        if not agency:
            raise ValueError("a partner token needs an agency (the partner whose reports it sees)")
        if not channel:
            raise ValueError(f"a partner token needs a channel: one of {', '.join(CHANNELS)}")
    elif channel is not None:
        raise ValueError(f"only partner tokens have a channel, not {role} tokens")
    if isinstance(offices, str):
        raise ValueError("offices must be a list of office names, not one string")
    if offices and role != "official":
        raise ValueError(f"only official tokens hold offices, not {role} tokens")
    for office in offices:
        if not isinstance(office, str) or not OFFICE_NAME.fullmatch(office):
            raise ValueError(f"{office!r} is not an office name such as PPK_KABUPATEN_KOTA")


# --- Flask -------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def _refusal(roles: tuple[str, ...], role: str) -> str:
    message = f"this needs the role {' or '.join(roles)}; the token's role is {role}"
    if role == "auditor":
        # Auditors read through the auditor app, where each read is itself recorded.
        message += (
            "; auditor membaca kasus melalui aplikasi auditor (port 8004), yang mencatat setiap "
            "pembacaan / auditors read cases through the auditor app (port 8004), which records every read"
        )
    return message


def require_role(*roles: str) -> Callable[[F], F]:
    """Let only callers with a valid bearer token in one of ``roles`` reach the view.

    Answers 401 (with ``WWW-Authenticate: Bearer``) when the token is missing, unknown or
    revoked, 403 when its role is not among ``roles``; otherwise puts the caller's
    :class:`Identity` on ``flask.g.identity``. The registry is the app's
    ``app.extensions["netra"].tokens`` (see shared.web).
    """
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        # A typo here would lock everyone out (or in) silently: fail at import instead.
        raise ValueError(f"require_role needs roles among {', '.join(ROLES)}; got {roles!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            identity = _authenticate()
            if identity.role not in roles:
                abort(403, message=_refusal(roles, identity.role))
            g.identity = identity
            return view(*args, **kwargs)

        # Shows the padlock in /docs and declares the scheme for this operation.
        return cast(F, Blueprint.doc(security=[{SECURITY_SCHEME: []}])(wrapper))

    return decorator


def current_identity() -> Identity:
    """The caller of the current request, as ``require_role`` found it."""
    identity = g.get("identity")
    if not isinstance(identity, Identity):
        raise RuntimeError("no identity: the view is not behind require_role")
    return identity


def _authenticate() -> Identity:
    """The identity behind the request's bearer token, or abort with 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="netra"'})
    registry: TokenRegistry = current_app.extensions["netra"].tokens
    identity = registry.verify(token.strip())
    if identity is None:
        abort(
            401,
            message="unknown or revoked token",
            headers={"WWW-Authenticate": 'Bearer realm="netra", error="invalid_token"'},
        )
    return identity
