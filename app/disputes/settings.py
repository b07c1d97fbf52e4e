"""The platform's windows and deadlines for disputes and refund requests, read from the platform
settings (:func:`app.platform_settings.get_setting`, changed by admins in the console):

* ``dispute_window_days``: a case may be opened up to this many days after the booking ends;
* ``dispute_business_answer_hours`` / ``refund_request_answer_hours``: the business's time to answer;
* ``dispute_reminder_hours``: how long before that deadline both sides are reminded.
"""

from __future__ import annotations

from datetime import timedelta

from app.platform_settings import get_setting


def dispute_window() -> timedelta:
    """How long after a booking ends a dispute or refund request may be opened."""
    return timedelta(days=int(get_setting("dispute_window_days")))


def answer_time(kind: str) -> timedelta:
    """How long the business has to answer a case of ``kind`` (``dispute`` / ``refund_request``)."""
    key = "refund_request_answer_hours" if kind == "refund_request" else "dispute_business_answer_hours"
    return timedelta(hours=int(get_setting(key)))


def remind_before() -> timedelta:
    """How long before the business's deadline the parties are reminded."""
    return timedelta(hours=int(get_setting("dispute_reminder_hours")))
