"""Keep each report's request body, so a supplement can complete it and be validated whole.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intake_reports", sa.Column("body", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("intake_reports", "body")
