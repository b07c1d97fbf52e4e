"""Customer blocks: a business refuses a person (by account and/or email address).

Enforced on the server wherever the person acts: chat messages (a post guard registered with
the chat domain, :func:`install`), comments (:mod:`app.community.posts`), and booking entry
points (the storefront and API call :func:`booking_refusal`). Tenant in scope; functions flush.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.booking.models import Booking, Customer
from app.chat import service as chat
from app.chat.models import BOOKING, INQUIRY, Conversation, Inquiry
from app.community.models import CustomerBlock
from app.extensions import db
from app.identity.models import User
from app.identity.service import normalize_email

#: What a blocked person reads (no detail about why).
BLOCKED_MESSAGE = _l("This business does not accept messages, comments or bookings from you.")
BLOCKED_BOOKING = _l("This business does not accept bookings from you. Please contact it directly.")


class Blocked(Exception):  # noqa: N818 - the name reads as the condition
    """The person is blocked by the business in scope; ``message`` is user-facing."""

    def __init__(self, message: str | None = None) -> None:
        message = message or str(BLOCKED_MESSAGE)
        super().__init__(message)
        self.message = message


def is_blocked(user_id: uuid.UUID | None = None, email: str | None = None) -> bool:
    """True when the business in scope blocked the account ``user_id`` or the address ``email``
    (compared normalised); the account's own email counts too."""
    conds = []
    addresses = {normalize_email(email)} if email else set()
    if user_id is not None:
        conds.append(CustomerBlock.user_id == user_id)
        account_email = db.session.scalar(sa.select(User.email).where(User.id == user_id))
        if account_email:
            addresses.add(normalize_email(account_email))
    addresses.discard("")
    if addresses:
        conds.append(CustomerBlock.email.in_(sorted(addresses)))
    if not conds:
        return False
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(CustomerBlock).where(sa.or_(*conds))))


def check_not_blocked(user_id: uuid.UUID | None = None, email: str | None = None) -> None:
    """Raise :class:`Blocked` when :func:`is_blocked`."""
    if is_blocked(user_id, email):
        raise Blocked()


def booking_refusal(user_id: uuid.UUID | None, email: str | None) -> str | None:
    """For the booking entry points: the sentence refusing a booking by this person (a signed-in
    ``user_id`` and/or the ``email`` typed), or ``None`` when they may book."""
    return str(BLOCKED_BOOKING) if is_blocked(user_id, email) else None


def message_guard(conv: Conversation, principal: chat.Principal) -> str | None:
    """Chat post guard: refuses a customer the business blocked (by their account, the booking's
    customer email or the inquiry's email); staff are never refused."""
    if principal.role != chat.CUSTOMER:
        return None
    email = None
    if conv.subject_type == INQUIRY:
        email = db.session.scalar(sa.select(Inquiry.email).where(Inquiry.id == conv.subject_id))
    elif conv.subject_type == BOOKING:
        email = db.session.scalar(sa.select(Customer.email).join(
            Booking, sa.and_(Booking.tenant_id == Customer.tenant_id, Booking.customer_id == Customer.id))
            .where(Booking.id == conv.subject_id))
    return str(BLOCKED_MESSAGE) if is_blocked(principal.user_id, email) else None


def not_blocked_condition(conv: Conversation, principal: chat.Principal) -> sa.ColumnElement[bool]:
    """:func:`message_guard` as one SQL boolean for the socket's one-statement send (made once
    at join, evaluated by PostgreSQL with each message): no block of the business in scope names
    the customer's account, the account's email, the booking's customer email or the inquiry's
    email (compared trimmed and lower-cased, like :func:`app.identity.service.normalize_email`)."""
    def normalized(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        return sa.func.lower(sa.func.trim(column))

    named = []
    if principal.user_id is not None:
        named += [CustomerBlock.user_id == principal.user_id, CustomerBlock.email == sa.select(
            normalized(User.email)).where(User.id == principal.user_id).scalar_subquery()]
    if conv.subject_type == INQUIRY:
        named.append(CustomerBlock.email == sa.select(normalized(Inquiry.email)).where(
            Inquiry.tenant_id == conv.tenant_id, Inquiry.id == conv.subject_id).scalar_subquery())
    elif conv.subject_type == BOOKING:
        named.append(CustomerBlock.email == sa.select(normalized(Customer.email)).join(
            Booking, sa.and_(Booking.tenant_id == Customer.tenant_id, Booking.customer_id == Customer.id))
            .where(Booking.tenant_id == conv.tenant_id, Booking.id == conv.subject_id).scalar_subquery())
    if not named:
        return sa.true()
    return ~sa.exists().where(CustomerBlock.tenant_id == conv.tenant_id, sa.or_(*named))


def install() -> None:
    """Register :func:`message_guard` with the chat domain (idempotent): customers only, with
    :func:`not_blocked_condition` as its SQL form."""
    chat.register_post_guard(message_guard, applies=lambda _subject, role: role == chat.CUSTOMER,
                             condition=not_blocked_condition)


def block_person(*, user_id: uuid.UUID | None = None, email: str | None = None, name: str = "",
                 note: str = "", by: uuid.UUID | None = None) -> CustomerBlock:
    """Block a person at the business in scope (an existing block of the same account or address
    is returned, completed with the other identifier). Flushes.

    Raises:
        ValueError: neither ``user_id`` nor ``email``.
    """
    address = normalize_email(email) if email else None
    if user_id is None and not address:
        raise ValueError("block_person needs a user id or an email")
    conds = []
    if user_id is not None:
        conds.append(CustomerBlock.user_id == user_id)
    if address:
        conds.append(CustomerBlock.email == address)
    found = db.session.scalar(sa.select(CustomerBlock).where(sa.or_(*conds)).limit(1))
    if found is None:
        found = CustomerBlock(user_id=user_id, email=address, name=name[:120], note=note, created_by=by)
        db.session.add(found)
    else:
        found.user_id = found.user_id or user_id
        found.email = found.email or address
    db.session.flush()
    return found


def unblock(block_id: uuid.UUID) -> bool:
    """Remove a block of the business in scope; True when one was removed. Flushes."""
    found = db.session.scalar(sa.select(CustomerBlock).where(CustomerBlock.id == block_id))
    if found is None:
        return False
    db.session.delete(found)
    db.session.flush()
    return True


def list_blocks() -> list[CustomerBlock]:
    """The business's blocks, newest first."""
    return list(db.session.scalars(sa.select(CustomerBlock).order_by(CustomerBlock.created_at.desc())))
