"""Who the employee is arrives sealed (docs/architecture.md §5): the read model keeps the
sealed identity, and the clear name only for referrals recorded before sealing.

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
    op.alter_column("sanctions_cases", "employee_name", nullable=True)
    op.add_column("sanctions_cases", sa.Column("employee_identity", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("sanctions_cases", "employee_identity")
    op.alter_column("sanctions_cases", "employee_name", nullable=False)
