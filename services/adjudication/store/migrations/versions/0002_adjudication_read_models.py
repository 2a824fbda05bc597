"""Adjudication's read models: the case files and their legal deadlines (services.adjudication.readmodel).

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
        "adjudication_cases",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("case_number", sa.Text, nullable=False, unique=True),
        sa.Column("state", sa.Text, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("subject", sa.JSON, nullable=False),
        sa.Column("employee_type", sa.Text, nullable=True),
        sa.Column("position_kind", sa.Text, nullable=True),
        sa.Column("agency_level", sa.Text, nullable=True),
        sa.Column("province", sa.Text, nullable=True, index=True),
        sa.Column("regency", sa.Text, nullable=True, index=True),
        sa.Column("election_type", sa.Text, nullable=True),
        sa.Column("election_year", sa.Integer, nullable=True),
        sa.Column("incident_date", sa.Date, nullable=True),
        sa.Column("assignee", sa.Text, nullable=True, index=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ppk_noncompliant", sa.Boolean, nullable=False),
        sa.Column("temporarily_released", sa.Boolean, nullable=False),
        sa.Column("finding_category", sa.Text, nullable=True),
        sa.Column("finding_level", sa.Text, nullable=True),
        sa.Column("deciding_official", sa.Text, nullable=True),
    )
    op.create_table(
        "adjudication_deadlines",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("started_by", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("day_count", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=True),
        sa.Column("article", sa.Text, nullable=True),
        # PENDING, MET, MET_LATE (met after it was recorded missed), MISSED, CANCELLED
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("resolved_by", sa.Uuid, nullable=True),
    )
    op.create_index(
        "adjudication_deadlines_open",
        "adjudication_deadlines",
        ["due_on"],
        postgresql_where=sa.text("status IN ('PENDING', 'MISSED')"),
    )


def downgrade() -> None:
    op.drop_table("adjudication_deadlines")
    op.drop_table("adjudication_cases")
