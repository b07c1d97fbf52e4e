"""Who may take part in a conversation, and as whom.

For a booking's conversation: the business's staff (owner, manager, staff) on its host,
and the booking's customer — by the manage link, or logged in with the account linked to
the customer record (or with its verified email). Works in the tenant in scope.

A *guest* is the customer of one booking known only by its manage link (no account): a
:class:`BookingGuest`, taking part in that booking's conversation and no other, while the
booking's customer may still write (:func:`app.chat.service.customer_may_write`: not
cancelled) and its manage link works (:func:`app.booking.service.manage_link_expired`).
Who may *write* is one rule for every way in: :func:`app.chat.service.post_message` refuses
a closed conversation's customer, over HTTP and Socket.IO alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.booking.service import booking_from_manage_token, manage_link_days_after, manage_link_expired
from app.chat.models import INQUIRY, Conversation, Inquiry
from app.chat.service import BOOKING, CLOSED_TO_CUSTOMER, CUSTOMER, STAFF, Principal, customer_may_write
from app.customers.ownership import owns_booking
from app.extensions import db
from app.identity.models import User
from app.tenants.models import STAFF_ROLES, Membership
from app.timeutil import utcnow


def is_staff(user_id: uuid.UUID) -> bool:
    """True when the account holds a staff role in the tenant in scope."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.user_id == user_id, Membership.role.in_([r.value for r in STAFF_ROLES]))) > 0


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
    if owns_booking(user, booking):
        return customer_principal(booking, user)
    return None


def subject_booking(conv: Conversation) -> Booking | None:
    """The booking a conversation is about (``None`` for other subjects or a missing booking)."""
    if conv.subject_type != BOOKING:
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.id == conv.subject_id))


def conversation_principal(conv: Conversation, user: User, *, as_staff: bool) -> Principal | None:
    """How ``user`` takes part in ``conv`` (see :func:`booking_principal`); ``None`` to refuse."""
    if conv.subject_type == INQUIRY:  # as staff on the business's host, else as the asker's account
        if as_staff and is_staff(user.id):
            return staff_principal(user)
        inquiry = db.session.scalar(sa.select(Inquiry).where(Inquiry.id == conv.subject_id))
        if inquiry is None or inquiry.user_id is None or inquiry.user_id != user.id:
            return None
        return Principal(CUSTOMER, user_id=user.id, customer_id=inquiry.id, name=inquiry.name)
    booking = subject_booking(conv)
    if booking is None:
        return Principal(STAFF, user_id=user.id, name=user.name or user.email) if (
            as_staff and is_staff(user.id)) else None
    return booking_principal(booking, user, as_staff=as_staff)


# --------------------------------------------------------------------------- guests (manage link)


@dataclass(frozen=True)
class BookingGuest:
    """The customer of one booking, authorised by its manage link: ``tenant_id`` and
    ``booking_id`` name the only conversation they may reach; ``customer_id`` is their
    participant identity (and rate-limit bucket)."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    customer_id: uuid.UUID


def guest_may_chat(booking: Booking) -> bool:
    """True when the booking's guest may (still) chat: its customer may write
    (:func:`app.chat.service.customer_may_write`) and its manage link has not expired."""
    return customer_may_write(booking.status) and not manage_link_expired(booking)


def guest_from_token(token: object) -> BookingGuest | None:
    """The guest a manage-link ``token`` authorises in the tenant in scope, or ``None`` to refuse:
    not a non-empty string, a bad or expired signature, a token made for another tenant's
    booking (the same lookup as the manage page, :func:`app.booking.service.booking_from_manage_token`),
    a missing booking, a cancelled one, or an expired link."""
    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    booking = booking_from_manage_token(token)
    if booking is None or not guest_may_chat(booking):
        return None
    return BookingGuest(booking.tenant_id, booking.id, booking.customer_id)


def guest_booking(guest: BookingGuest) -> Booking | None:
    """The guest's booking in the tenant in scope while they may still chat (``None`` once it
    is cancelled or gone, or when another tenant is in scope)."""
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == guest.booking_id))
    if booking is None or booking.tenant_id != guest.tenant_id or not guest_may_chat(booking):
        return None
    return booking


def guest_principal(conv: Conversation, guest: BookingGuest) -> Principal | None:
    """How ``guest`` takes part in ``conv``: as the customer when ``conv`` is *their* booking's
    conversation and the booking is still open to chat; ``None`` (refuse) for any other
    conversation."""
    if conv.subject_type != BOOKING or conv.subject_id != guest.booking_id or conv.tenant_id != guest.tenant_id:
        return None
    booking = guest_booking(guest)
    if booking is None or booking.customer_id != guest.customer_id:
        return None
    return customer_principal(booking)


def guests_refused(guests: list[BookingGuest]) -> set[uuid.UUID]:
    """Booking ids among ``guests`` (all of the tenant in scope) whose guests may no longer chat:
    cancelled, gone, or their manage link expired (the rule of :func:`guest_may_chat`). One query."""
    ids = {g.booking_id for g in guests}
    if not ids:
        return set()
    ended_after = utcnow() - timedelta(days=manage_link_days_after())
    open_ids = set(db.session.scalars(sa.select(Booking.id).where(
        Booking.id.in_(ids), Booking.status.not_in(sorted(CLOSED_TO_CUSTOMER)), Booking.ends_at > ended_after)))
    return ids - open_ids
