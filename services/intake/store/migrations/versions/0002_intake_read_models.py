"""Intake's own tables: case numbers, idempotency keys, and the report and case read models.

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
        "intake_case_numbers",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "intake_idempotency",
        # Per partner: two partners may use the same key for different reports.
        sa.Column("partner", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("response", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "intake_reports",
        sa.Column("report_id", sa.Uuid, primary_key=True),
        sa.Column("partner", sa.Text, nullable=False, index=True),
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "intake_cases",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("case_number", sa.Text, nullable=False, unique=True),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=True, index=True),
        sa.Column("conduct", sa.JSON, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("province", sa.Text, nullable=True),
        sa.Column("regency", sa.Text, nullable=True),
        sa.Column("agency", sa.Text, nullable=True),
        sa.Column("election_type", sa.Text, nullable=False),
        sa.Column("election_year", sa.Integer, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "intake_case_stages",
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
    )


def downgrade() -> None:
    for table in (
        "intake_case_stages",
        "intake_cases",
        "intake_reports",
        "intake_idempotency",
        "intake_case_numbers",
    ):
        op.drop_table(table)
