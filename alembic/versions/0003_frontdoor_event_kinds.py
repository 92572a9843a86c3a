"""events.kind: import, preferences, email and status, for the subscriber's history

Revision ID: 0003_frontdoor
Revises: 0002_sessions
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_frontdoor"
down_revision: str | None = "0002_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("open", "click", "bounce", "complaint", "unsubscribe", "subscribe", "confirm")
NEW = (*OLD, "import", "preferences", "email", "status")


def _kind(values: tuple[str, ...]) -> sa.Enum:
    # The new values are no longer than "unsubscribe", so only the CHECK changes.
    return sa.Enum(*values, name="eventkind", native_enum=False, create_constraint=True, length=11)


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(OLD), type_=_kind(NEW), existing_nullable=False
        )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM events WHERE kind IN ('import', 'preferences', 'email', 'status')")
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(NEW), type_=_kind(OLD), existing_nullable=False
        )
