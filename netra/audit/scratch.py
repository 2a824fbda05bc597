"""A throw-away database beside a service's own, migrated like it, for replay to fill."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shared.db import create_engine, ensure_database, migrate


@contextlib.contextmanager
def scratch_database(service_url: str, service: str) -> Iterator[sa.Engine]:
    """A fresh database on the service's server with the service's schema; dropped on exit."""
    url = make_url(service_url).set(database=f"netra_replay_{service}_{uuid.uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    ensure_database(rendered)
    engine = create_engine(rendered, pool_size=1)
    try:
        migrate(rendered, service)
        with engine.begin() as conn:
            # Replay writes many rows it will read once: no need to wait for the WAL flush.
            conn.execute(sa.text(f'ALTER DATABASE "{url.database}" SET synchronous_commit = off'))
        yield engine
    finally:
        engine.dispose()
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()
