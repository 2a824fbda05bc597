"""Engines, databases and migrations.

Each service owns one database; ``prepare_database`` creates it when missing (the embedded
server, or any server where the role may CREATE DATABASE) and runs that service's Alembic
migrations to head. Services call it on start, so a fresh machine needs no manual step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from shared.config import REPO_ROOT, Settings
from shared.eventstore import ConcurrencyError

log = logging.getLogger(__name__)


# The isolation every transaction runs at. netra_append (shared.schema) reads the heads of the
# case and of the service log after taking the service-log lock, and must see what the
# previous holder committed: only READ COMMITTED takes a new snapshot per statement. Set on
# every engine, so a server or role whose default is REPEATABLE READ changes nothing here.
ISOLATION_LEVEL = "READ COMMITTED"

# Lock contention, not a broken database: deadlock_detected, serialization_failure and
# lock_not_available. The transaction was rolled back whole, so running it again is safe.
CONTENTION_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
CONTENTION_ATTEMPTS = 3

P = ParamSpec("P")
T = TypeVar("T")


# A pooled connection is tested before use only once it has sat idle this long. A restarted
# PostgreSQL leaves every idle connection dead, and each is found out and replaced at its
# next checkout, so a request never meets one; a busy path, whose connections are back in
# the pool for milliseconds, pays no round trip per checkout (SQLAlchemy's pre-ping cost
# 50-250 µs of a 1.2-1.7 ms append in make bench's breakdown).
PING_IDLE_S = 1.0


def create_engine(
    url: str | sa.URL, *, pool_size: int = 5, pre_ping: bool = True, pooled: bool = True
) -> sa.Engine:
    """An engine at READ COMMITTED; with ``pre_ping`` a connection idle for PING_IDLE_S or
    more is tested before use, so a restarted PostgreSQL costs a request nothing. The relay
    and the consumer turn it off: they retry a failed record or batch anyway.
    ``pooled=False`` gives every connection its own session (what a session lock needs).

    ``hide_parameters``: a failed statement's error (and so a log line) never shows the
    values it carried, which may be personal data or a webhook secret.
    """
    pool: dict[str, object] = (
        {"pool_size": pool_size, "max_overflow": 10} if pooled else {"poolclass": sa.pool.NullPool}
    )
    engine = sa.create_engine(url, isolation_level=ISOLATION_LEVEL, hide_parameters=True, **pool)
    if pre_ping and pooled:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: sa.Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, run only for idle connections: a failed
    ping raises DisconnectionError, and the pool then checks out a new connection instead."""

    @sa.event.listens_for(engine, "checkin")
    def idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError("the pooled connection is dead") from exc


def is_contention(error: BaseException) -> bool:
    """Whether ``error`` is a deadlock, serialization failure or lock timeout (worth a retry)."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) in CONTENTION_SQLSTATES


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached (try later), not that the
    work itself failed: no record or deadline is set aside for it."""
    return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError) and not is_contention(error)


def lost_race(error: BaseException) -> bool:
    """Whether the work lost a race with another writer and may simply be done again: the
    case moved on between load and append, or lock contention rolled the transaction back."""
    return isinstance(error, ConcurrencyError) or is_contention(error)


def retry_on_contention(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn`` again (up to CONTENTION_ATTEMPTS in all) when its transaction lost to lock
    contention. Locks are taken in one order (docs/architecture.md §2), so this is a safety
    net; if contention persists the last error is raised (answered 409 over HTTP)."""

    @wraps(fn)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> T:
        attempt = 1
        while True:
            try:
                return fn(*args, **kwargs)
            except sa.exc.DBAPIError as error:
                if not is_contention(error) or attempt >= CONTENTION_ATTEMPTS:
                    raise
                log.warning("lock contention (%s), retrying", type(error.orig).__name__)
                attempt += 1

    return retrying


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist yet."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).scalar()
            if not exists:
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
                except (sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
                    # Several processes may start at once; losing that race is fine. The loser
                    # sees DuplicateDatabase, or UniqueViolation on pg_database's name index
                    # when both CREATEs ran at the same instant.
                    lost = (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation)
                    if not isinstance(exc.orig, lost):
                        raise
    finally:
        admin.dispose()


def migrations_dir(service: str) -> Path:
    """Where a service's Alembic environment lives (``auth`` is the token registry's)."""
    if service == "auth":
        return REPO_ROOT / "shared" / "auth_migrations"
    if service == "keyring":  # the data keys of shared.keyring
        return REPO_ROOT / "shared" / "keyring_migrations"
    if service == "audit":  # the auditor app's record of reads (netra/audit_app)
        return REPO_ROOT / "netra" / "audit_app" / "migrations"
    return REPO_ROOT / "services" / service / "store" / "migrations"


def migrate(url: str, service: str) -> None:
    """Run the service's Alembic migrations to head against ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def prepare_database(settings: Settings, service: str) -> str:
    """Create (if needed) and migrate ``service``'s database; return its URL."""
    url = settings.database_url(service)
    ensure_database(url)
    migrate(url, service)
    return url
