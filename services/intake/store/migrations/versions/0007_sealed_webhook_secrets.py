"""Webhook secrets are sealed (shared.keyring): ``webhooks.secret`` becomes JSONB, holding
``{"sealed": "AES-256-GCM", "subject": "webhook/<partner>", ...}``.

A migration cannot reach the key store (its own database, its KEK outside), so a secret
registered before this one is kept as it was, as a JSON string: the worker still signs with
it, and the partner's next ``PUT /v1/webhook`` stores it sealed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE webhooks ALTER COLUMN secret TYPE jsonb USING to_jsonb(secret)")


def downgrade() -> None:
    # The code before this revision would sign with the sealed JSON itself: refuse rather
    # than have every such partner's deliveries fail their signature check.
    sealed = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM webhooks WHERE jsonb_typeof(secret) <> 'string'"))
        .scalar_one()
    )
    if sealed:
        raise RuntimeError(
            f"{sealed} webhook secrets are sealed and cannot be made plain here: delete those "
            "rows of webhooks before downgrading, and have those partners register again"
        )
    op.execute("ALTER TABLE webhooks ALTER COLUMN secret TYPE text USING secret #>> '{}'")
