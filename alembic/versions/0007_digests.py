"""digests: issue kind and pace, what each digest covers, digest run markers, and the
digest delivery that carries a skipped row's posts

Revision ID: 0007_digests
Revises: 0006_send
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.models.base

revision: str = "0007_digests"
down_revision: str | None = "0006_send"
branch_labels = None
depends_on = None


def _frequency() -> sa.Enum:
    return sa.Enum(
        "every", "weekly", "monthly", name="frequency", native_enum=False, create_constraint=True
    )


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("frequency", _frequency(), nullable=False),
        sa.Column(
            "last_slot", newsletter.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("frequency", name=op.f("pk_digest_runs")),
    )
    op.create_table(
        "digest_sources",
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["issues.id"],
            name=op.f("fk_digest_sources_digest_id_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_digest_sources_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest_id", "issue_id", name=op.f("pk_digest_sources")),
    )
    with op.batch_alter_table("digest_sources", schema=None) as batch_op:
        batch_op.create_index("ix_digest_sources_issue_id", ["issue_id"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digested_in", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_deliveries_digested_in"), ["digested_in"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_digested_in_deliveries"),
            "deliveries",
            ["digested_in"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "issue", "digest", name="issuekind", native_enum=False, create_constraint=True
                ),
                server_default="issue",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("frequency", _frequency(), nullable=True))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM issues WHERE kind = 'digest'"))
    with op.batch_alter_table("issues", schema=None) as batch_op:
        # SQLite's table copy would keep the CHECKs naming the dropped columns.
        batch_op.drop_constraint(op.f("ck_issues_frequency"), type_="check")
        batch_op.drop_constraint(op.f("ck_issues_issuekind"), type_="check")
        batch_op.drop_column("frequency")
        batch_op.drop_column("kind")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_digested_in_deliveries"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_deliveries_digested_in"))
        batch_op.drop_column("digested_in")
    with op.batch_alter_table("digest_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_sources_issue_id")
    op.drop_table("digest_sources")
    op.drop_table("digest_runs")
