"""send: a delivery's next retry time (exponential back-off after a 4xx).

Revision ID: 0006_send
Revises: 0005_bounces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.models.base

revision: str = "0006_send"
down_revision: str | None = "0005_bounces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "next_attempt_at",
                newsletter.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
