"""The offices an official's token holds: sanctions lets it sign a decision only in one of them.

Existing tokens get none, so an official token created before this cannot sign a decision
until it is replaced by one created with ``--office`` (reading and the other commands still
work). Guessing an office for it would be granting one.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column("offices", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("tokens", "offices")
