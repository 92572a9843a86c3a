"""tracking: pre-aggregated open and click counts, each delivery's first events, and an
index for the stats' send rate.

Revision ID: 0008_tracking
Revises: 0007_digests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.models.base

revision: str = "0008_tracking"
down_revision: str | None = "0007_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_counts",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("bucket_at", newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=11), nullable=False),
        sa.Column("link_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("uniq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_tracking_counts_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "issue_id", "bucket_at", "kind", "link_id", "machine", name=op.f("pk_tracking_counts")
        ),
    )
    op.create_table(
        "tracking_firsts",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=11), nullable=False),
        sa.Column("link_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("bucket_at", newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_tracking_firsts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "delivery_id", "kind", "link_id", "machine", name=op.f("pk_tracking_firsts")
        ),
    )


    op.create_index(
        "ix_deliveries_issue_id_sent_at", "deliveries", ["issue_id", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_issue_id_sent_at", table_name="deliveries")
    op.drop_table("tracking_firsts")
    op.drop_table("tracking_counts")
