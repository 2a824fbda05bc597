"""The subject's agency as a column of the case files, so a list can be scoped to the caller's
agency in SQL (shared.scope): the agency the examination opened with, or the one a later
``adjudication.subject_profile_recorded`` recorded (services.adjudication.store.readmodel).

Existing rows are filled from the same events, so the column equals what replaying them
projects.

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
    op.add_column("adjudication_cases", sa.Column("agency", sa.Text, nullable=True))
    op.create_index("adjudication_cases_agency", "adjudication_cases", ["agency"])
    op.execute(
        "UPDATE adjudication_cases c SET agency = COALESCE(("
        "  SELECT CAST(e.envelope AS jsonb) -> 'payload' -> 'subject' ->> 'agency' FROM events e"
        "  WHERE e.stream_id = CAST(c.case_id AS text)"
        "    AND e.event_type = 'adjudication.subject_profile_recorded'"
        "    AND CAST(e.envelope AS jsonb) -> 'payload' -> 'subject' ? 'agency'"
        "  ORDER BY e.stream_version DESC LIMIT 1"
        "), c.subject ->> 'agency')"
    )


def downgrade() -> None:
    op.drop_index("adjudication_cases_agency", "adjudication_cases")
    op.drop_column("adjudication_cases", "agency")
