"""Sanctions' read models: one row per case and its timeline (services.sanctions.readmodel).

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
    op.create_table(
        "sanctions_cases",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("case_number", sa.Text, nullable=False),
        sa.Column("agency", sa.Text, nullable=False, index=True),
        sa.Column("employee_name", sa.Text, nullable=False),
        sa.Column("employee_type", sa.Text, nullable=False),
        sa.Column("finding_level", sa.Text, nullable=True),
        sa.Column("state", sa.Text, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("rule_set", sa.Text, nullable=True),
        sa.Column("penalty", sa.Text, nullable=True),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("received_on", sa.Date, nullable=True),
        sa.Column("in_force_on", sa.Date, nullable=True),
        sa.Column("appeal_limit", sa.Date, nullable=True),
        sa.Column("in_force", sa.Boolean, nullable=False),
        sa.Column("appeal_pending", sa.Boolean, nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        # Obligations whose deadline lapsed and that are still unmet.
        sa.Column("breaches", sa.JSON, nullable=False),
        sa.Column("referral", sa.JSON, nullable=False),
        sa.Column("decision", sa.JSON, nullable=True),
        sa.Column("decree", sa.JSON, nullable=True),
        sa.Column("execution", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sanctions_timeline",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("sanctions_timeline")
    op.drop_table("sanctions_cases")
