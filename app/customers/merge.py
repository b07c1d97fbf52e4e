"""Merging two customer records of one person: the duplicate's bookings, notes and tags move to
the kept record, its phone and account link fill gaps, and the duplicate is removed.

Nothing else holds a foreign key to ``customer`` but ``booking`` (moved first: its foreign key
cascades), ``customer_note`` and ``customer_tag``; chat's participant rows are moved by
:func:`app.chat.customer_data.move_participants`, which :func:`app.crm.merge_customers` calls in
the same transaction and audits. Moving a booking to another customer changes no time, so the
exclusion constraint is untouched; tags that both records have are kept once (the
case-insensitive unique index). Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.booking.models import Booking, Customer
from app.customers.errors import CannotMerge
from app.customers.models import CustomerNote, CustomerTag
from app.customers.ownership import account_of
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow


@dataclass(frozen=True)
class MergePlan:
    """What merging ``duplicate`` into ``keep`` does: how many of the duplicate's ``bookings``,
    ``notes`` and ``tags`` move (tags the kept record has already are not counted), the kept
    record's ``phone``, ``email`` (the duplicate's fills a kept record known by phone only) and
    ``account_id`` afterwards."""

    keep: Customer
    duplicate: Customer
    bookings: int
    notes: int
    tags: int
    phone: str | None
    account_id: uuid.UUID | None
    email: str | None = None


def snapshot(customer: Customer) -> dict:
    """The record's identifying fields as JSON (for the audit entry of a merge)."""
    return {"id": str(customer.id), "name": customer.name, "email": customer.email, "phone": customer.phone,
            "user_id": str(customer.user_id) if customer.user_id else None}


def plan_merge(keep: Customer, duplicate: Customer) -> MergePlan:
    """What :func:`merge_records` would do, without changing anything.

    Raises:
        CannotMerge: the same record twice, an erased record, or records belonging to two
            different accounts (merging would hand one person's bookings to another).
    """
    if keep.id == duplicate.id:
        raise CannotMerge(_("Pick two different customers."))
    if keep.erased_at is not None or duplicate.erased_at is not None:
        raise CannotMerge(_("An erased customer cannot be merged."))
    keep_account, dup_account = account_of(keep.id), account_of(duplicate.id)
    if keep_account is not None and dup_account is not None and keep_account != dup_account:
        raise CannotMerge(_("These records belong to two different customer accounts, so they are two people."))

    def count(model: type, column: sa.ColumnElement) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(column == duplicate.id)) or 0

    kept_tags = sa.select(sa.func.lower(CustomerTag.tag)).where(CustomerTag.customer_id == keep.id)
    new_tags = db.session.scalar(sa.select(sa.func.count()).select_from(CustomerTag).where(
        CustomerTag.customer_id == duplicate.id, sa.func.lower(CustomerTag.tag).not_in(kept_tags))) or 0
    return MergePlan(keep=keep, duplicate=duplicate, bookings=count(Booking, Booking.customer_id),
                     notes=count(CustomerNote, CustomerNote.customer_id), tags=new_tags,
                     phone=keep.phone or duplicate.phone, account_id=keep_account or dup_account,
                     email=keep.email or duplicate.email)


def merge_records(keep: Customer, duplicate: Customer) -> MergePlan:
    """Merge ``duplicate`` into ``keep`` (see the module docstring) and return the plan carried out.

    Raises:
        CannotMerge: as :func:`plan_merge`; nothing changes then.
    """
    # Lock both rows (in id order: two merges never wait on each other in a cycle). A booking
    # upserting the duplicate right now holds its row until it commits; the merge then waits and
    # moves that booking too. One that comes later finds no row to update and makes a new record.
    db.session.execute(sa.select(Customer).where(Customer.id.in_([keep.id, duplicate.id]))
                       .order_by(Customer.id).with_for_update().execution_options(populate_existing=True))
    plan = plan_merge(keep, duplicate)
    db.session.execute(sa.update(Booking).where(Booking.customer_id == duplicate.id)
                       .values(customer_id=keep.id, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(CustomerNote).where(CustomerNote.customer_id == duplicate.id)
                       .values(customer_id=keep.id).execution_options(synchronize_session=False))
    moved = sa.select(sa.literal(require_tenant_id()), sa.func.gen_random_uuid(), sa.literal(keep.id),
                      CustomerTag.tag, CustomerTag.created_at).where(CustomerTag.customer_id == duplicate.id)
    db.session.execute(pg_insert(CustomerTag).from_select(
        ["tenant_id", "id", "customer_id", "tag", "created_at"], moved).on_conflict_do_nothing())
    db.session.delete(duplicate)
    db.session.flush()  # first: the kept record may take the duplicate's (unique) email
    keep.phone = plan.phone
    keep.email = plan.email
    if keep.user_id is None and plan.account_id is not None:
        keep.user_id = plan.account_id
    db.session.flush()
    db.session.expire_all()
    return plan
