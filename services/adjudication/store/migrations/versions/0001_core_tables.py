"""The event-sourcing tables every service has: events, outbox, inbox, quarantine, deadlines.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.schema import create_core_tables, drop_core_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_core_tables(op)


def downgrade() -> None:
    drop_core_tables(op)
