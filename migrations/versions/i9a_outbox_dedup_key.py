"""outbox_event.dedup_key: one event per (tenant, kind, key), written with ON CONFLICT DO NOTHING

Replaces the count-then-insert on ``payload ->> 'key'`` (a non-unique index, so two
concurrent writers could both insert) with a column and a unique partial index that
``app.outbox.events.emit`` targets. Existing keys are copied from the payload; where
duplicates already exist, only the oldest event keeps the key.

Revision ID: i9a_outbox_dedup_key
Revises: h1_tenant_proof
"""
from alembic import op

revision = "i9a_outbox_dedup_key"
down_revision = "h1_tenant_proof"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE outbox_event ADD COLUMN dedup_key varchar(200)")
    op.execute(
        "UPDATE outbox_event e SET dedup_key = left(e.payload ->> 'key', 200) FROM ("
        "  SELECT DISTINCT ON (tenant_id, kind, left(payload ->> 'key', 200)) id FROM outbox_event"
        "  WHERE payload ? 'key' ORDER BY tenant_id, kind, left(payload ->> 'key', 200), created_at, id"
        ") first WHERE e.id = first.id")
    op.execute("CREATE UNIQUE INDEX outbox_event_dedup ON outbox_event (tenant_id, kind, dedup_key) "
               "WHERE dedup_key IS NOT NULL")
    op.execute("DROP INDEX IF EXISTS outbox_event_kind_key")


def downgrade():
    op.execute("CREATE INDEX outbox_event_kind_key ON outbox_event (tenant_id, kind, (payload ->> 'key'))")
    op.execute("DROP INDEX IF EXISTS outbox_event_dedup")
    op.execute("ALTER TABLE outbox_event DROP COLUMN dedup_key")
