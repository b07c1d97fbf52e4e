"""Errors of the payments domain (blueprints map them to HTTP answers)."""

from __future__ import annotations


class PaymentUnavailable(Exception):
    """Payments cannot be taken right now (Stripe unreachable or refused); ``message`` for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
