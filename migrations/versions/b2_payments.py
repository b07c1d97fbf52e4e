"""customer payments: settings, service rules, Connect account, booking payments, immutable ledger;
booking_no_overlap also covers awaiting_payment holds

Revision ID: b2_payments
Revises: b1_billing
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import APP_ROLE, enable_rls

revision = "b2_payments"
down_revision = "b1_billing"
branch_labels = None
depends_on = None

TABLES = ["payment_settings", "service_payment_rule", "connect_account", "booking_payment", "ledger_entry"]


def _tenant_col():
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def _exclusion(statuses: str) -> None:
    op.execute("alter table booking drop constraint if exists booking_no_overlap")
    op.execute("alter table booking add constraint booking_no_overlap exclude using gist "
               "(tenant_id with =, staff_id with =, tstzrange(blocked_from, blocked_until) with &&) "
               f"where (status in ({statuses}))")


def upgrade():
    _exclusion("'pending', 'confirmed', 'awaiting_payment'")
    op.create_table(
        "payment_settings",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("free_cancellation_hours", sa.Integer(), nullable=False, server_default="24"),
        sa.Column("late_cancel_fee_percent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("no_show_fee_percent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("require_card", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", name="payment_settings_one"),
        sa.CheckConstraint("late_cancel_fee_percent between 0 and 100", name="payment_settings_late"),
        sa.CheckConstraint("no_show_fee_percent between 0 and 100", name="payment_settings_noshow"),
        sa.CheckConstraint("free_cancellation_hours >= 0", name="payment_settings_hours"),
    )
    op.create_table(
        "service_payment_rule",
        _tenant_col(),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("deposit_percent", sa.Integer()),
        sa.Column("deposit_fixed", sa.Integer()),
        sa.PrimaryKeyConstraint("tenant_id", "service_id"),
        sa.ForeignKeyConstraint(["tenant_id", "service_id"], ["service.tenant_id", "service.id"], ondelete="CASCADE"),
        sa.CheckConstraint("mode in ('none', 'deposit', 'full')", name="service_payment_rule_mode"),
    )
    op.create_table(
        "connect_account",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stripe_account_id", sa.String(64), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", name="connect_account_one"),
        sa.UniqueConstraint("stripe_account_id", name="connect_account_stripe_id"),
    )
    op.create_table(
        "booking_payment",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("application_fee_amount", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(64)),
        sa.Column("client_secret", sa.String(200)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True)),
        sa.Column("customer_stripe_id", sa.String(64)),
        sa.Column("setup_intent_id", sa.String(64)),
        sa.Column("payment_method_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "booking_id"], ["booking.tenant_id", "booking.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "booking_id", name="booking_payment_one"),
        sa.UniqueConstraint("payment_intent_id", name="booking_payment_pi"),
    )
    op.create_index("booking_payment_hold", "booking_payment", ["hold_expires_at"],
                    postgresql_where=sa.text("status <> 'succeeded'"))
    op.create_table(
        "ledger_entry",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("booking_id", sa.Uuid(), index=True),
        sa.Column("stripe_payment_intent_id", sa.String(64)),
        sa.Column("stripe_refund_id", sa.String(64)),
        sa.Column("stripe_charge_id", sa.String(64)),
        sa.Column("description", sa.String(300), nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="ledger_entry_idem"),
        sa.CheckConstraint("kind in ('payment', 'refund', 'fee', 'application_fee')", name="ledger_entry_kind"),
    )
    op.create_index("ledger_entry_created", "ledger_entry", ["tenant_id", "created_at"])
    enable_rls(TABLES)
    # The ledger is append-only: no UPDATE/DELETE grant for the app role, and a trigger that
    # rejects them for everyone (other migrations re-run the blanket DML grant).
    op.execute(
        f"do $$ begin if exists (select 1 from pg_roles where rolname = '{APP_ROLE}') then "
        f"revoke update, delete on ledger_entry from {APP_ROLE}; end if; end $$"
    )
    op.execute(
        "create function ledger_entry_immutable() returns trigger language plpgsql as $$ "
        "begin raise exception 'ledger_entry is append-only' using errcode = 'insufficient_privilege'; end $$"
    )
    op.execute("create trigger ledger_entry_no_change before update or delete on ledger_entry "
               "for each row execute function ledger_entry_immutable()")


def downgrade():
    op.execute("drop trigger if exists ledger_entry_no_change on ledger_entry")
    op.execute("drop function if exists ledger_entry_immutable()")
    for table in reversed(TABLES):
        op.drop_table(table)
    op.execute("update booking set status = 'cancelled' where status = 'awaiting_payment'")
    _exclusion("'pending', 'confirmed'")

