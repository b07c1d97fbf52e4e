"""Errors of checkout (the composition of bookings and payments)."""

from __future__ import annotations


class MissingRecord(LookupError):
    """A row the money flow needs is gone (the booking of a payment, its customer or tenant):
    a broken invariant, never a user error. ``what`` names the row."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class TestPaymentsDisabled(PermissionError):
    """The server-side test-card payment (a test hook) was asked for while the configuration
    does not allow it (:func:`app.payments.gateway.test_payments_allowed`)."""

    __test__ = False  # not a pytest test class, whatever its name
