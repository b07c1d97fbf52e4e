"""Which customer records, and so which bookings, belong to an account — the rule, written once.

A business's :class:`~app.booking.models.Customer` record belongs to a user account when it is
linked to the account (``customer.user_id``), or when its email is the account's email and the
account has verified that email (a guest who books first and signs up later sees their
bookings). An unverified account owns only what is linked to it, so nobody can claim another
person's bookings by signing up with their address.

The functions read the tenant in scope (the query guard filters them), except
:func:`owned_by`, a SQL condition for queries that span tenants under ``platform_scope``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.extensions import db
from app.identity.models import User


def owned_by(user: User) -> sa.ColumnElement[bool]:
    """SQL condition on :class:`Customer`: the records that belong to ``user`` (linked, or the
    verified email). Usable in any query that joins ``customer``, in or across tenants."""
    clauses = [Customer.user_id == user.id]
    if user.email_verified_at is not None:
        clauses.append(Customer.email == user.email)
    return sa.or_(*clauses)


def owns_customer(user: User, customer: Customer) -> bool:
    """True when ``customer`` belongs to ``user`` (see :func:`owned_by`); no query."""
    if customer.user_id == user.id:
        return True
    return user.email_verified_at is not None and customer.email == user.email


def customer_ids_of(user: User) -> list[uuid.UUID]:
    """Ids of the customer records of ``user`` in the tenant in scope (at most one by email, plus
    any linked), in id order; empty for an account that never booked here."""
    return list(db.session.scalars(sa.select(Customer.id).where(owned_by(user)).order_by(Customer.id)))


def owns_booking(user: User, booking: Booking) -> bool:
    """True when ``booking``'s customer record belongs to ``user`` (tenant of the booking in scope)."""
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
    return customer is not None and owns_customer(user, customer)


def account_of(customer_id: uuid.UUID) -> uuid.UUID | None:
    """The account a customer record belongs to: the linked one, else a verified account with the
    same email; ``None`` for a guest or a missing record. Needs the tenant in scope."""
    return accounts_of([customer_id]).get(customer_id)


def accounts_of(customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """:func:`account_of` for many customer records in two queries: customer id -> account id,
    guests and missing records absent. Needs the tenant in scope."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Customer.id, Customer.user_id, Customer.email)
                              .where(Customer.id.in_(ids))).all()
    owners = {row.id: row.user_id for row in rows if row.user_id is not None}
    unlinked = {row.email for row in rows if row.user_id is None and row.email}
    if unlinked:
        # Several records may share an address; each of them belongs to the verified account.
        verified = dict(db.session.execute(sa.select(User.email, User.id).where(
            User.email.in_(list(unlinked)), User.email_verified_at.is_not(None))).all())
        owners.update({row.id: verified[row.email] for row in rows
                       if row.user_id is None and row.email in verified})
    return owners


def latest_phone_of(user: User) -> str | None:
    """The E.164 phone of ``user``'s most recent customer record at the business in scope (to
    prefill the booking form), or ``None`` when no record of theirs has one."""
    return db.session.scalar(sa.select(Customer.phone).where(owned_by(user), Customer.phone.is_not(None))
                             .order_by(Customer.created_at.desc()).limit(1))
