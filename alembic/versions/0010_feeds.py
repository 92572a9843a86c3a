"""feeds: watched feeds, automations (cron-scheduled issues) and their runs.

Revision ID: 0010_feeds
Revises: 0009_admin_charts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.models.base


revision: str = '0010_feeds'
down_revision: str | None = '0009_admin_charts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=False),
    sa.Column('allow_private', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('next_poll_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_polled_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('created_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('url', name=op.f('uq_feeds_url'))
    )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feeds_next_poll_at'), ['next_poll_at'], unique=False)

    op.create_table('automations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('schedule', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('min_posts', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('draft', 'schedule', name='automationaction', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_run_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_run_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=True),
    sa.Column('last_issue_id', sa.Integer(), nullable=True),
    sa.Column('covered_until', newsletter.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['last_issue_id'], ['issues.id'], name=op.f('fk_automations_last_issue_id_issues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automations'))
    )
    with op.batch_alter_table('automations', schema=None) as batch_op:
        batch_op.create_index('ix_automations_enabled_next_run_at', ['enabled', 'next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_automations_last_issue_id'), ['last_issue_id'], unique=False)

    op.create_table('automation_categories',
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_automation_categories_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_automation_categories_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('automation_id', 'category_id', name=op.f('pk_automation_categories'))
    )
    op.create_table('automation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', newsletter.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ran_at', newsletter.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('issue', 'skipped', 'failed', name='runoutcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_automation_runs_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_automation_runs_issue_id_issues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_runs')),
    sa.UniqueConstraint('automation_id', 'scheduled_for', name=op.f('uq_automation_runs_automation_id_scheduled_for'))
    )



def downgrade() -> None:

    op.drop_table('automation_runs')
    op.drop_table('automation_categories')
    with op.batch_alter_table('automations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automations_last_issue_id'))
        batch_op.drop_index('ix_automations_enabled_next_run_at')

    op.drop_table('automations')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feeds_next_poll_at'))

    op.drop_table('feeds')

