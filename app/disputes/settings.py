"""The platform's windows and deadlines for disputes and refund requests.

Until the platform settings pages exist these are the defaults: a dispute may be opened up to
:data:`DISPUTE_WINDOW_DAYS` days after the booking ends; the business answers a dispute within
:data:`BUSINESS_ANSWER_HOURS` hours and a refund request within :data:`REFUND_ANSWER_HOURS`;
the parties are reminded :data:`REMIND_BEFORE_HOURS` hours before a deadline.
"""

from __future__ import annotations

from datetime import timedelta

DISPUTE_WINDOW_DAYS = 30
BUSINESS_ANSWER_HOURS = 72
REFUND_ANSWER_HOURS = 72
REMIND_BEFORE_HOURS = 24


def dispute_window() -> timedelta:
    """How long after a booking ends a dispute or refund request may be opened."""
    return timedelta(days=DISPUTE_WINDOW_DAYS)


def answer_time(kind: str) -> timedelta:
    """How long the business has to answer a case of ``kind`` (``dispute`` / ``refund_request``)."""
    return timedelta(hours=REFUND_ANSWER_HOURS if kind == "refund_request" else BUSINESS_ANSWER_HOURS)


def remind_before() -> timedelta:
    """How long before the business's deadline the parties are reminded."""
    return timedelta(hours=REMIND_BEFORE_HOURS)
