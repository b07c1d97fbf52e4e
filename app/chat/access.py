"""Who may take part in a conversation, and as whom.

For a booking's conversation: the business's staff (owner, manager, staff) on its host,
and the booking's customer — by the manage link, or logged in with the account linked to
the customer record (or with its verified email). Works in the tenant in scope.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.chat.models import Conversation
from app.chat.service import BOOKING, CUSTOMER, STAFF, Principal
from app.extensions import db
from app.identity.models import User
from app.tenants.models import STAFF_ROLES, Membership


def is_staff(user_id: uuid.UUID) -> bool:
    """True when the account holds a staff role in the tenant in scope."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.user_id == user_id, Membership.role.in_([r.value for r in STAFF_ROLES]))) > 0


def owns_customer(user: User, customer: Customer) -> bool:
    """True when ``customer`` is this account's record: linked, or the same verified email."""
    if customer.user_id == user.id:
        return True
    return user.email_verified_at is not None and customer.email == user.email


def customer_principal(booking: Booking, user: User | None = None) -> Principal:
    """The booking's customer as a :class:`Principal` (with ``user``'s id when logged in as them)."""
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
    name = customer.name if customer is not None else "Customer"
    return Principal(CUSTOMER, user_id=user.id if user is not None else None, customer_id=booking.customer_id,
                     name=name)


def staff_principal(user: User) -> Principal:
    """A staff account as a :class:`Principal`."""
    return Principal(STAFF, user_id=user.id, name=user.name or user.email)


def booking_principal(booking: Booking, user: User, *, as_staff: bool) -> Principal | None:
    """How ``user`` takes part in ``booking``'s conversation: as staff when ``as_staff`` (on the
    business's host) and they are staff, else as its customer when they own the customer
    record; ``None`` when neither."""
    if as_staff and is_staff(user.id):
        return staff_principal(user)
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
    if customer is not None and owns_customer(user, customer):
        return customer_principal(booking, user)
    return None


def subject_booking(conv: Conversation) -> Booking | None:
    """The booking a conversation is about (``None`` for other subjects or a missing booking)."""
    if conv.subject_type != BOOKING:
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.id == conv.subject_id))


def conversation_principal(conv: Conversation, user: User, *, as_staff: bool) -> Principal | None:
    """How ``user`` takes part in ``conv`` (see :func:`booking_principal`); ``None`` to refuse."""
    booking = subject_booking(conv)
    if booking is None:
        return Principal(STAFF, user_id=user.id, name=user.name or user.email) if (
            as_staff and is_staff(user.id)) else None
    return booking_principal(booking, user, as_staff=as_staff)
