"""Citus readiness: every unique key of a tenant table includes tenant_id

Revision ID: m15e1_citus_keys
Revises: m14s1_listing_category_earth
Create Date: 2026-12-05 21:10:00

Issue 15 (E). ``tests/tenants/test_citus_readiness.py`` found five unique keys of tenant tables
without ``tenant_id``, which ``create_distributed_table(…, 'tenant_id')`` refuses (a shard can
only enforce uniqueness among its own rows):

* ``booking_payment_pi`` (``payment_intent_id``) and ``connect_account_stripe_id``
  (``stripe_account_id``): Stripe's ids are unique at Stripe; the key becomes ``(tenant_id, …)``
  and a plain index keeps the webhooks' look-up by id alone (platform scope) an index scan.
* ``credit_entry_seq_key`` (``seq``): the ledger orders a business's entries by ``seq``; unique
  per business, ``(tenant_id, seq)``, which is also the index its newest-first page reads.
* ``dispatch_offer_live_request`` and ``dispatch_offer_accepted_request`` (``request_id`` where
  the offer is live / accepted): one live and one accepted offer per request across businesses.
  That invariant is held by the request itself (``dispatch_request``, a platform table, carries
  the one current ``offer_id`` and is locked ``FOR UPDATE`` by every offer and accept); the
  indexes become ``(tenant_id, request_id)``, the same rule within a business.

No table is added, so row-level security and grants are unchanged.
"""
from alembic import op

revision = "m15e1_citus_keys"
down_revision = "m14s1_listing_category_earth"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint("booking_payment_pi", "booking_payment", type_="unique")
    op.create_unique_constraint("booking_payment_pi", "booking_payment", ["tenant_id", "payment_intent_id"])
    op.create_index("booking_payment_pi_lookup", "booking_payment", ["payment_intent_id"])

    op.drop_constraint("connect_account_stripe_id", "connect_account", type_="unique")
    op.create_unique_constraint("connect_account_stripe_id", "connect_account", ["tenant_id", "stripe_account_id"])
    op.create_index("connect_account_stripe_lookup", "connect_account", ["stripe_account_id"])

    op.drop_constraint("credit_entry_seq_key", "credit_entry", type_="unique")
    op.create_unique_constraint("credit_entry_seq", "credit_entry", ["tenant_id", "seq"])

    for name, outcome in (("dispatch_offer_live_request", "live"), ("dispatch_offer_accepted_request", "accepted")):
        op.drop_index(name, table_name="dispatch_offer")
        op.execute(f"create unique index {name} on dispatch_offer (tenant_id, request_id) "
                   f"where outcome = '{outcome}'")


def downgrade():
    for name, outcome in (("dispatch_offer_live_request", "live"), ("dispatch_offer_accepted_request", "accepted")):
        op.drop_index(name, table_name="dispatch_offer")
        op.execute(f"create unique index {name} on dispatch_offer (request_id) where outcome = '{outcome}'")

    op.drop_constraint("credit_entry_seq", "credit_entry", type_="unique")
    op.create_unique_constraint("credit_entry_seq_key", "credit_entry", ["seq"])

    op.drop_index("connect_account_stripe_lookup", table_name="connect_account")
    op.drop_constraint("connect_account_stripe_id", "connect_account", type_="unique")
    op.create_unique_constraint("connect_account_stripe_id", "connect_account", ["stripe_account_id"])

    op.drop_index("booking_payment_pi_lookup", table_name="booking_payment")
    op.drop_constraint("booking_payment_pi", "booking_payment", type_="unique")
    op.create_unique_constraint("booking_payment_pi", "booking_payment", ["payment_intent_id"])
