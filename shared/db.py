"""Engines, databases and migrations.

Each service owns one database; ``prepare_database`` creates it when missing (the embedded
server, or any server where the role may CREATE DATABASE) and runs that service's Alembic
migrations to head. Services call it on start, so a fresh machine needs no manual step.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from shared.config import REPO_ROOT, Settings


def create_engine(url: str, *, pool_size: int = 5, pre_ping: bool = True) -> sa.Engine:
    """An engine; with ``pre_ping`` a connection is tested before use, so a restarted
    PostgreSQL costs a request nothing. The relay and the consumer turn it off: they retry
    a failed record or batch anyway, and the ping is a round trip on every one."""
    return sa.create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=pre_ping)


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
