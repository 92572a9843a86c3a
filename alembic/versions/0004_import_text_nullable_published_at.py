"""posts.published_at may be NULL: a post whose date cannot be read has no date

An import used to give such posts the import time, which put them in every
"since yesterday" issue; now they have none until the author sets one.

Revision ID: 0004_import_text
Revises: 0003_frontdoor
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.models.base


revision: str = "0004_import_text"
down_revision: str | None = "0003_frontdoor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.alter_column(
            "published_at",
            existing_type=newsletter.models.base.UTCDateTime(timezone=True),
            nullable=True,
        )


def downgrade() -> None:
    # The old schema needs a date: the time the row was created is the best left.
    op.execute(sa.text("UPDATE posts SET published_at = created_at WHERE published_at IS NULL"))
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.alter_column(
            "published_at",
            existing_type=newsletter.models.base.UTCDateTime(timezone=True),
            nullable=False,
        )
