"""notification center, delivery log, preferences, consent, push subscriptions

Revision ID: c2_notify
Revises: c1_chat
Create Date: 2026-11-24 14:10:00

Platform-level tables (keyed by user, like user_account): no RLS; the app filters by user id.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from migrations.rls import grant_app_role

revision = 'c2_notify'
down_revision = 'c1_chat'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _user_fk():
    return sa.ForeignKey('user_account.id', ondelete='CASCADE')


def _tenant_fk():
    return sa.ForeignKey('tenant.id', ondelete='CASCADE')


def upgrade():
    op.create_table(
        'notification',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('user_id', sa.Uuid(), _user_fk(), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), _tenant_fk(), nullable=True),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('audience', sa.String(16), nullable=False),
        sa.Column('category', sa.String(16), nullable=False),
        sa.Column('subject_key', sa.String(200), nullable=False),
        sa.Column('title', sa.String(250), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('url', sa.String(1000), nullable=False),
        sa.Column('context', postgresql.JSONB(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.Column('read_at', TS, nullable=True),
        sa.Column('archived_at', TS, nullable=True),
    )
    op.create_index('notification_user_inbox', 'notification', ['user_id', 'archived_at', 'created_at'])
    op.create_index('notification_user_unread', 'notification', ['user_id'],
                    postgresql_where=sa.text('read_at is null and archived_at is null'))
    op.create_index('notification_fold', 'notification', ['user_id', 'type', 'subject_key', 'updated_at'])
    op.create_index('notification_tenant', 'notification', ['tenant_id', 'user_id'])

    op.create_table(
        'notification_source',
        sa.Column('user_id', sa.Uuid(), _user_fk(), primary_key=True),
        sa.Column('source_key', sa.String(250), primary_key=True),
        sa.Column('notification_id', sa.Uuid(), sa.ForeignKey('notification.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', TS, nullable=False),
    )
    op.create_index('ix_notification_source_notification_id', 'notification_source', ['notification_id'])

    op.create_table(
        'notification_delivery',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('notification_id', sa.Uuid(), sa.ForeignKey('notification.id', ondelete='CASCADE'), nullable=False),
        sa.Column('user_id', sa.Uuid(), _user_fk(), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), _tenant_fk(), nullable=True),
        sa.Column('channel', sa.String(16), nullable=False),
        sa.Column('recipient', sa.String(1000), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('provider_id', sa.String(200), nullable=True),
        sa.Column('log', postgresql.JSONB(), nullable=False),
        sa.Column('not_before', TS, nullable=True),
        sa.Column('claimed_at', TS, nullable=True),
        sa.Column('sent_at', TS, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.UniqueConstraint('notification_id', 'channel'),
    )
    op.create_index('ix_notification_delivery_user_id', 'notification_delivery', ['user_id'])
    op.create_index('notification_delivery_tenant', 'notification_delivery', ['tenant_id', 'user_id'])

    op.create_table(
        'notification_preference',
        sa.Column('user_id', sa.Uuid(), _user_fk(), primary_key=True),
        sa.Column('type', sa.String(64), primary_key=True),
        sa.Column('channel', sa.String(16), primary_key=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', TS, nullable=False),
    )

    op.create_table(
        'marketing_consent',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('user_id', sa.Uuid(), _user_fk(), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), _tenant_fk(), nullable=True),
        sa.Column('granted_at', TS, nullable=False),
        sa.Column('method', sa.String(80), nullable=False),
        sa.Column('source', sa.String(500), nullable=False),
        sa.Column('ip', sa.String(64), nullable=True),
        sa.Column('withdrawn_at', TS, nullable=True),
        sa.Column('withdrawn_method', sa.String(80), nullable=True),
    )
    op.create_index('ix_marketing_consent_user_id', 'marketing_consent', ['user_id'])

    op.create_table(
        'push_subscription',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('user_id', sa.Uuid(), _user_fk(), nullable=False),
        sa.Column('endpoint', sa.String(1000), nullable=False, unique=True),
        sa.Column('p256dh', sa.String(200), nullable=False),
        sa.Column('auth', sa.String(100), nullable=False),
        sa.Column('user_agent', sa.String(300), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('last_success_at', TS, nullable=True),
        sa.Column('disabled_at', TS, nullable=True),
    )
    op.create_index('ix_push_subscription_user_id', 'push_subscription', ['user_id'])
    grant_app_role()


def downgrade():
    for table in ('push_subscription', 'marketing_consent', 'notification_preference', 'notification_delivery',
                  'notification_source', 'notification'):
        op.drop_table(table)
