"""What a booking of several services asks when booking: the deposit or prepayment of each
service (its payment rule) on that service's booked price, added up, so the amount due is
computed on the booking's total. A single-service booking asks exactly what its service's rule
asks on the booking's price.

Money is integer minor units of the booking's ISO 4217 currency. Tenant in scope; read-only.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.booking.items import items_of
from app.booking.models import Booking
from app.catalog.models import Service
from app.payments.policy import PaymentMode, amount_due
from app.payments.settings import service_rule


def booking_amount_due(booking: Booking) -> int:
    """Minor units the customer pays when booking ``booking``: the sum over its items of each
    service's rule applied to the item's price (never more than the booking's total price);
    for a booking of one service, that service's rule on the booking's price."""
    items = items_of(booking.id)
    if len(items) <= 1:
        return amount_due(service_rule(booking.service_id), booking.price_amount)
    due = sum(amount_due(service_rule(item.service_id), item.price_amount) for item in items)
    return min(due, booking.price_amount)


def services_ask_payment(services: Sequence[Service]) -> bool:
    """True when any of ``services`` asks a deposit or prepayment above zero at its list price."""
    for service in services:
        rule = service_rule(service.id)
        if rule.mode != PaymentMode.NONE and amount_due(rule, service.price_amount) > 0:
            return True
    return False
