"""When a report's reporter was erased (``intake.personal_data_erased``), so the retention
process asks only about reporters still kept.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "intake_reports", sa.Column("reporter_erased_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Erasures recorded before this column: the same value the projection gives (replay agrees).
    op.execute(
        "UPDATE intake_reports r SET reporter_erased_at = CAST(e.envelope::json->>'occurred_at' AS timestamptz) "
        "FROM events e WHERE e.event_type = 'intake.personal_data_erased' "
        "AND e.envelope::json->'payload'->>'report_id' = CAST(r.report_id AS text)"
    )


def downgrade() -> None:
    op.drop_column("intake_reports", "reporter_erased_at")
