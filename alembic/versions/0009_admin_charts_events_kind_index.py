"""admin charts: events by kind and time, for the list-growth chart's GROUP BY day.

Revision ID: 0009_admin_charts
Revises: 0008_tracking
"""

from __future__ import annotations

from alembic import op

revision: str = "0009_admin_charts"
down_revision: str | None = "0008_tracking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_kind_occurred_at", ["kind", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_occurred_at")
