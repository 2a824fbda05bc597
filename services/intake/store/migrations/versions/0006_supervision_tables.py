"""The core tables added since the first: deadlines set aside by the scheduler, the
heartbeats of the service's background processes, and netra_append refusing any isolation
but READ COMMITTED (shared/schema.py).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from shared.schema import create_supervision_tables, drop_supervision_tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_supervision_tables(op)


def downgrade() -> None:
    drop_supervision_tables(op)
