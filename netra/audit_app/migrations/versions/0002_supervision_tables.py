"""The core tables added since the first, as every service has them: heartbeats (the audit
relay beats here, so the auditor app's /readyz and /metrics can say it is down), deadlines
set aside (none are kept here, but /metrics reads the table), and netra_append refusing any
isolation but READ COMMITTED (shared/schema.py).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.schema import create_supervision_tables, drop_supervision_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_supervision_tables(op)


def downgrade() -> None:
    drop_supervision_tables(op)
