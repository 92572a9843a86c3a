"""events.kind: delivered, the provider's word that a message reached the mailbox

Revision ID: 0005_bounces
Revises: 0004_import_text
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_bounces"
down_revision: str | None = "0004_import_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (
    "open",
    "click",
    "bounce",
    "complaint",
    "unsubscribe",
    "subscribe",
    "confirm",
    "import",
    "preferences",
    "email",
    "status",
)
NEW = (*OLD, "delivered")


def _kind(values: tuple[str, ...]) -> sa.Enum:
    # "delivered" is no longer than "unsubscribe", so only the CHECK changes.
    return sa.Enum(*values, name="eventkind", native_enum=False, create_constraint=True, length=11)


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(OLD), type_=_kind(NEW), existing_nullable=False
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM events WHERE kind = 'delivered'"))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(NEW), type_=_kind(OLD), existing_nullable=False
        )
