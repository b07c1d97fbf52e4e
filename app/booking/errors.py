"""Typed booking errors; blueprints map them to HTTP (409, 422, 403)."""

from __future__ import annotations

from datetime import datetime

from app.errors import InputError


class BookingError(InputError):
    """Base of booking domain errors; ``message`` is user-facing, ``field`` the input at fault."""


class SlotUnavailable(BookingError):
    """The time is taken or not bookable; ``alternatives`` are the next free slot starts (UTC)."""

    def __init__(self, message: str, alternatives: list[datetime] | None = None, field: str | None = "start") -> None:
        super().__init__(message, field)
        self.alternatives = alternatives or []


class InvalidTransition(BookingError):
    """The booking cannot move from its status by this action."""


class ManageLinkExpired(BookingError):
    """A genuine manage link whose booking ended more than ``MANAGE_LINK_DAYS_AFTER`` days ago."""


class CutoffPassed(BookingError):
    """The customer's self-service cancel/reschedule window has closed."""


class UnknownReference(BookingError):
    """An id that names nothing in this tenant (service, staff member)."""


class RescheduleLocked(CutoffPassed):
    """The customer may not move the booking themselves: its free-cancellation deadline has
    passed and it holds money, so moving it would dodge the late-cancellation fee (see
    :func:`app.payments.policy.customer_may_reschedule`). They may still cancel, or ask the business."""


class NeedsOverride(SlotUnavailable):
    """Staff asked for a time outside the rules (working hours, blocked time, lead time, the
    past, the horizon) without "Book anyway"; ``warnings`` lists each reason. Another booking
    at the time is never overridable: that is a plain :class:`SlotUnavailable`."""

    def __init__(self, warnings: list[str], alternatives: list[datetime] | None = None) -> None:
        super().__init__(" ".join(warnings) + " Tick “Book anyway” to book it all the same.", alternatives)
        self.warnings = warnings
