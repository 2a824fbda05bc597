"""The body of every service's ``migrations/env.py``: online migrations on the URL that
``shared.db.migrate`` put in the Alembic config, one transaction per run."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context


def run() -> None:
    """Run the pending migrations of the service whose env.py calls this."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url: run migrations with `netra db migrate SERVICE`")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        # Two processes starting at once must not both run the same migration.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(7823401)"))
        context.configure(connection=connection, transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()
