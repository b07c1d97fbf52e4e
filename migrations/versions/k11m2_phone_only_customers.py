"""phone-only customers: ``customer.email`` may be empty (NULL), no placeholder address

Revision ID: k11m2_phone_only_customers
Revises: k11m1_booking_items
Create Date: 2026-12-05 11:45:00

Issue 10 (front desk). A customer entered at the desk with only a phone number used to get
``<digits>@phone.invalid`` because ``customer.email`` was NOT NULL; an erased record got
``deleted-<id>@erased.invalid``. Both become NULL. The unique key ``(tenant_id, email)`` stays:
PostgreSQL treats NULLs as distinct, so it is unique only where an email exists; the desk
finds a phone-only customer again by the normalised (E.164) phone
(:func:`app.booking.desk.desk_customer`).

The downgrade puts the placeholders back (from the phone's digits, or the id for erased and
phone-less records) and makes the column NOT NULL again.
"""
import sqlalchemy as sa
from alembic import op

revision = "k11m2_phone_only_customers"
down_revision = "k11m1_booking_items"
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("customer", "email", existing_type=sa.String(254), nullable=True)
    clear_placeholders(op.get_bind())


def clear_placeholders(bind) -> int:
    """Set the placeholder addresses (``@phone.invalid``, ``@erased.invalid``) to NULL; returns how many.
    The table forces RLS on its owner too: the platform flag admits every row for this transaction."""
    bind.execute(sa.text("select set_config('app.platform', 'on', true)"))
    return bind.execute(sa.text(
        "update customer set email = null where email like '%@phone.invalid' or email like '%@erased.invalid'"
    )).rowcount


def downgrade():
    bind = op.get_bind()
    bind.execute(sa.text("select set_config('app.platform', 'on', true)"))
    bind.execute(sa.text(
        "update customer set email = case "
        "when erased_at is not null then 'deleted-' || replace(id::text, '-', '') || '@erased.invalid' "
        "when phone is not null then regexp_replace(phone, '[^0-9]', '', 'g') || '@phone.invalid' "
        "else 'customer-' || replace(id::text, '-', '') || '@phone.invalid' end "
        "where email is null"))
    op.alter_column("customer", "email", existing_type=sa.String(254), nullable=False)
