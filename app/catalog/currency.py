"""A business changing its currency: its services' prices follow, keeping their amounts.

``649.00 DKK`` becomes ``649.00 GBP`` (the number a person typed stays; minor units are
rescaled when the currencies have different decimals: ``649.00 DKK`` -> ``649 ISK``). Bookings
already made keep their own price and currency.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.availability_version import bump_version
from app.catalog.models import Service
from app.extensions import db
from app.formatting import currency_decimals
from app.tenants.context import require_tenant_id


def rescale_minor(amount: int, old: str, new: str) -> int:
    """``amount`` minor units of ``old`` as minor units of ``new`` with the same major amount
    (rounded half up when ``new`` has fewer decimals)."""
    shift = currency_decimals(new) - currency_decimals(old)
    if shift >= 0:
        return amount * 10 ** shift
    factor = 10 ** -shift
    return (amount + factor // 2) // factor


def change_service_currency(old: str, new: str) -> int:
    """Move every service of the tenant in scope priced in ``old`` to ``new`` (amounts rescaled
    with :func:`rescale_minor`); flushes and bumps the availability cache. Returns how many
    services changed.

    Raises:
        TenantScopeError: no tenant in scope.
    """
    tenant_id = require_tenant_id()
    services = db.session.scalars(sa.select(Service).where(Service.currency == old)).all()
    for service in services:
        service.price_amount = rescale_minor(service.price_amount, old, new)
        service.currency = new
    db.session.flush()
    if services:
        bump_version(tenant_id)
    return len(services)
