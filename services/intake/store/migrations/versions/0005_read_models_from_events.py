"""Intake's read models are a function of its events (services/intake/store/readmodel.py).

The partner's request body, which a supplement completes and re-validates, is command-side
state and not in any event: it moves to its own table. Each report keeps the report as its
``intake.report_received`` event recorded it, which is what projecting a case reads.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_report_bodies",
        sa.Column("report_id", sa.Uuid, primary_key=True),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO intake_report_bodies (report_id, body) "
        "SELECT report_id, body FROM intake_reports WHERE body IS NOT NULL"
    )
    op.drop_column("intake_reports", "body")
    op.add_column("intake_reports", sa.Column("record", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("intake_reports", "record")
    op.add_column("intake_reports", sa.Column("body", sa.JSON, nullable=True))
    op.execute(
        "UPDATE intake_reports r SET body = b.body FROM intake_report_bodies b WHERE b.report_id = r.report_id"
    )
    op.drop_table("intake_report_bodies")
