"""Typed billing errors, mapped to HTTP by the blueprints."""

from __future__ import annotations

from flask_babel import gettext as _


class BillingError(Exception):
    """Base class of billing errors; ``str(exc)`` is a message fit to show the owner."""


class StaffSeatLimit(BillingError):
    """Adding an active staff member would exceed the plan's seats: ``plan_name``, ``seats``."""

    def __init__(self, plan_name: str, seats: int) -> None:
        super().__init__(_("Your %(plan)s plan includes %(seats)d staff seats, and they are all in use.",
                           plan=plan_name, seats=seats))
        self.plan_name = plan_name
        self.seats = seats


class BillingNotConfigured(BillingError):
    """``STRIPE_SECRET_KEY`` is unset: everyone is on Free and nothing can be bought."""


class CheckoutAlreadyPaid(BillingError):
    """The business's last Checkout Session was paid already: no new one is opened. The
    subscription it created has been derived in the same transaction, which should commit."""
