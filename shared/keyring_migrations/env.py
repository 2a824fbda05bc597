"""Alembic environment: shared.alembic_env does the work for every service."""

from shared.alembic_env import run

run()
