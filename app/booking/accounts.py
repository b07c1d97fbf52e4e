"""Which account a booking's customer is."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.models import Customer
from app.extensions import db
from app.identity.models import User


def customer_user_id(customer_id: uuid.UUID) -> uuid.UUID | None:
    """The account of a booking's customer: the linked one, else a verified account with the
    same email; ``None`` for a guest. Needs the tenant in scope."""
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == customer_id))
    if customer is None:
        return None
    if customer.user_id is not None:
        return customer.user_id
    return db.session.scalar(sa.select(User.id).where(User.email == customer.email,
                                                      User.email_verified_at.is_not(None)))
