"""The key store: one wrapped data key per data subject, and every use of one.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        # Both NULL once erased: the key is gone, the row says who erased it and why.
        sa.Column("kek_id", sa.Text, nullable=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_by", sa.Text, nullable=True),
        sa.Column("erased_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "key_uses",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False, index=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("key_uses")
    op.drop_table("data_keys")
