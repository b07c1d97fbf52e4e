"""A business's booking rules: lead time, horizon, slot interval, confirmation, cut-off, and
the hourly cap on public bookings.

The rules live on the (platform-level) :class:`~app.tenants.models.Tenant` row; only the
tenant in scope may be changed. Every change bumps the availability cache version.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.catalog.availability_version import bump_version
from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.tenants.errors import TenantScopeError
from app.tenants.models import Tenant

#: field -> (minimum, maximum), inclusive.
RULE_LIMITS: dict[str, tuple[int, int]] = {
    "lead_time_minutes": (0, 10080),
    "horizon_days": (1, 365),
    "slot_interval_minutes": (5, 120),
    "cancellation_cutoff_hours": (0, 720),
    "public_bookings_per_hour": (1, 10000),
}


class RulesError(InputError, ValueError):
    """A booking rule out of range; ``field`` names the rule, ``message`` is user-facing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class BookingRulesInput:
    """New booking rules: minutes of notice, days ahead, minutes between slot starts,
    whether staff confirm by hand, hours before the start when customers stop self-service, and
    how many bookings the public (not staff) may make per hour, all guests together (default 60)."""

    lead_time_minutes: int
    horizon_days: int
    slot_interval_minutes: int
    requires_confirmation: bool
    cancellation_cutoff_hours: int
    public_bookings_per_hour: int = 60


def update_booking_rules(tenant: Tenant, rules: BookingRulesInput) -> Tenant:
    """Write ``rules`` onto the current tenant's row; flushes and bumps the availability cache.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
        RulesError: a value outside :data:`RULE_LIMITS`.
    """
    if tenant.id != require_tenant_id():
        raise TenantScopeError("booking rules of another tenant")
    for name, (low, high) in RULE_LIMITS.items():
        value = getattr(rules, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise RulesError(name, f"Enter a whole number from {low} to {high}.")
    tenant.lead_time_minutes = rules.lead_time_minutes
    tenant.horizon_days = rules.horizon_days
    tenant.slot_interval_minutes = rules.slot_interval_minutes
    tenant.requires_confirmation = bool(rules.requires_confirmation)
    tenant.cancellation_cutoff_hours = rules.cancellation_cutoff_hours
    tenant.public_bookings_per_hour = rules.public_bookings_per_hour
    db.session.flush()
    bump_version(tenant.id)
    return tenant
