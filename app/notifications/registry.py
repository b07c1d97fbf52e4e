"""The registry of notification types: who hears about what, on which channels by default,
and what it says.

Each :class:`NotificationType` has a stable ``key`` (stored in ``notification.type`` and in
preferences), a ``category`` (``transactional`` or ``marketing``; marketing needs recorded
consent and carries a one-click unsubscribe link), and per audience a :class:`Templates`
set: the in-app title and body and the email subject and body, written as ``str.format``
templates over a flat context of strings (see :data:`SAMPLE_CONTEXT` for the fields).

Audiences: ``customer`` (the booking's customer, when they have an account), ``staff``
(owners and managers of the business, and the staff member the booking is with),
``owner`` (owners of the business: billing), ``user`` (the account holder itself:
account and security events), ``participant`` (the other people in a conversation).

Every channel of every type goes through the notification's deliveries, email included; a
booking type's email is the full booking email (with its ``.ics`` for the customer, a link to
the booking in the dashboard for staff: :mod:`app.notifications.booking_mail`). A type with
two audiences has the same defaults for both, so the preferences page shows what happens.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

TRANSACTIONAL = "transactional"
MARKETING = "marketing"

INAPP, EMAIL, PUSH, SMS = "inapp", "email", "push", "sms"
#: Every channel, in the order the preferences page shows them.
CHANNELS: tuple[str, ...] = (INAPP, EMAIL, PUSH, SMS)
CHANNEL_LABELS: dict[str, str] = {INAPP: _l("In the app"), EMAIL: _l("Email"), PUSH: _l("Push"), SMS: "SMS"}

AUDIENCES = frozenset({"customer", "staff", "owner", "user", "participant"})


class UnknownNotificationType(KeyError):
    """No notification type has this key."""


class MissingField(KeyError):
    """A template refers to a context field that was not given."""


@dataclass(frozen=True)
class Templates:
    """What one audience is told: in-app ``title``/``body``, email ``subject``/``text``.

    All are ``str.format`` templates over the notification context (strings only).
    """

    title: str
    body: str
    subject: str
    text: str | None = None

    @property
    def email_text(self) -> str:
        """The email body template in the reader's language (lazy strings are read now)."""
        return str(self.text) if self.text is not None else str(self.body) + "\n\n{url}"


@dataclass(frozen=True)
class NotificationType:
    """One kind of notification.

    ``defaults`` maps audience -> the channels on by default; ``locked`` channels cannot be
    switched off (security notices by email); ``group`` is the heading on the preferences page.
    """

    key: str
    label: str
    group: str
    category: str
    templates: Mapping[str, Templates]
    defaults: Mapping[str, frozenset[str]]
    locked: frozenset[str] = field(default_factory=frozenset)

    @property
    def audiences(self) -> frozenset[str]:
        """The audiences this type has templates for."""
        return frozenset(self.templates)

    @property
    def is_marketing(self) -> bool:
        """True for marketing (consent and unsubscribe link required)."""
        return self.category == MARKETING

    def default_channels(self, audience: str) -> frozenset[str]:
        """Channels on by default for ``audience`` (empty for an unknown audience)."""
        return self.defaults.get(audience, frozenset())


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise MissingField(key)


def render(template: str, context: Mapping[str, object]) -> str:
    """``template`` formatted with ``context``.

    Raises:
        MissingField: the template names a field ``context`` lacks.
    """
    return string.Formatter().vformat(str(template), (), _Strict({k: "" if v is None else v for k, v in context.items()}))


def fields_of(template: str) -> set[str]:
    """The field names ``template`` refers to."""
    return {name for _, name, _, _ in string.Formatter().parse(str(template)) if name}


@dataclass(frozen=True)
class Rendered:
    """A notification's texts for one audience, ready for any channel."""

    title: str
    body: str
    subject: str
    text: str


def render_for(type_key: str, audience: str, context: Mapping[str, object]) -> Rendered:
    """Render the templates of ``type_key`` for ``audience``.

    Raises:
        UnknownNotificationType: no such type, or it has no templates for ``audience``.
        MissingField: ``context`` lacks a field the templates need.
    """
    nt = get(type_key)
    tpl = nt.templates.get(audience)
    if tpl is None:
        raise UnknownNotificationType(f"{type_key} has no templates for {audience}")
    return Rendered(render(tpl.title, context), render(tpl.body, context), render(tpl.subject, context),
                    render(tpl.email_text, context))


_C = frozenset({INAPP, EMAIL, PUSH})
_IP = frozenset({INAPP, PUSH})
_I = frozenset({INAPP})
_E = frozenset({INAPP, EMAIL})


def _t(title: str, body: str, subject: str | None = None, text: str | None = None) -> Templates:
    """Templates where the email defaults to the in-app wording plus a link (``text`` ``None``:
    the body and ``{url}``, joined when rendered, in the reader's language)."""
    return Templates(title, body, subject or title, text)


TYPES: tuple[NotificationType, ...] = (
    NotificationType(
        "booking_requested", _l("Booking requested"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking request sent"), _l("Your request for {service} at {business} on {when} is waiting for confirmation.")),
         "staff": _t(_l("New booking request"), _l("{customer} asked for {service} with {staff} on {when}."))},
        {"customer": _C, "staff": _C}),
    NotificationType(
        "booking_request_waiting", _l("Booking request still waiting"), _l("Bookings"), TRANSACTIONAL,
        {"staff": _t(_l("Booking request waiting: {customer}"),
                     _l("{customer}'s request for {service} with {staff} on {when} is still waiting. "
                     "It is cancelled automatically on {deadline} unless you confirm it."))},
        {"staff": _C}),
    NotificationType(
        "booking_confirmed", _l("Booking confirmed"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking confirmed"), _l("{service} at {business} on {when} is confirmed.")),
         "staff": _t(_l("New booking"), _l("{customer} booked {service} with {staff} on {when}."))},
        {"customer": _C, "staff": _C}),
    NotificationType(
        "booking_declined", _l("Booking declined"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking request declined"), _l("{business} could not accept your request for {service} at {business} on {when}."))},
        {"customer": _C}),
    NotificationType(
        "booking_cancelled_by_customer", _l("Booking cancelled by the customer"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking cancelled"), _l("You cancelled {service} at {business} on {when}.")),
         "staff": _t(_l("Booking cancelled by customer"), _l("{customer} cancelled {service} with {staff} on {when}."))},
        {"customer": _C, "staff": _C}),
    NotificationType(
        "booking_cancelled_by_business", _l("Booking cancelled by the business"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking cancelled by {business}"), _l("{service} at {business} on {when} was cancelled by the business. {reason}")),
         "staff": _t(_l("Booking cancelled"), _l("{service} with {customer} on {when} was cancelled. {reason}"))},
        {"customer": _C, "staff": _C}),
    NotificationType(
        "booking_rescheduled", _l("Booking rescheduled"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking moved"), _l("{service} at {business} now starts on {when} (was {previous_when}).")),
         "staff": _t(_l("Booking moved"), _l("{customer}'s {service} with {staff} now starts on {when} (was {previous_when})."))},
        {"customer": _C, "staff": _C}),
    NotificationType(
        "booking_reminder_24h", _l("Reminder a day before"), _l("Reminders"), TRANSACTIONAL,
        {"customer": _t(_l("Tomorrow: {service}"), _l("A reminder of {service} at {business} on {when}."))},
        {"customer": _C}),
    NotificationType(
        "booking_reminder_2h", _l("Reminder two hours before"), _l("Reminders"), TRANSACTIONAL,
        {"customer": _t(_l("Starting soon: {service}"), _l("{service} at {business} starts at {time}."))},
        {"customer": frozenset({INAPP, EMAIL, PUSH, SMS})}),
    NotificationType(
        "daily_agenda", _l("Daily agenda: your bookings each morning"), _l("Reminders"), TRANSACTIONAL,
        {"staff": _t(_l("Your day at {business}: {count}"), "{agenda}")},
        {"staff": frozenset()}),
    NotificationType(
        "booking_completed", _l("Thank-you after a visit"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Thanks for visiting {business}"), _l("Your {service} on {when} is marked as completed."),
                        _l("How was {service}? Thank you for visiting {business}"),
                        _l("Thank you for visiting {business} for {service} on {when}. We hope to see you "
                        "again soon.\n\nBook again: {book_url}"))},
        {"customer": _E}),
    NotificationType(
        "booking_no_show", _l("No-show recorded"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Missed appointment"), _l("{business} recorded that you did not come to {service} on {when}. "
                                              "If this is a mistake, please contact them."),
                        _l("We missed you at {business}: {service} on {when}"),
                        _l("{business} recorded that you did not come to {service} on {when}. If this is a "
                        "mistake, please reply to {business} or write to them from your booking.\n\n"
                        "{policy}\n\nYour booking: {url}\nBook a new time: {book_url}"))},
        {"customer": _E}),
    NotificationType(
        "review_requested", _l("Review request"), _l("Reviews"), TRANSACTIONAL,
        {"customer": _t(_l("How was {service}?"), _l("Thank you for visiting {business}. Tell others how it went: leave a review."))},
        {"customer": _I}),
    NotificationType(
        "review_received", _l("New review"), _l("Reviews"), TRANSACTIONAL,
        {"staff": _t(_l("New {rating}-star review"), _l("{author} reviewed {service}: {rating} out of 5. Reply from the "
                                                 "Reviews page."))},
        {"staff": _E}),
    NotificationType(
        "new_message", _l("New message"), _l("Messages"), TRANSACTIONAL,
        {"participant": _t(_l("New message from {sender}"), "{preview}", _l("New message from {sender}"),
                           _l("{sender} wrote:\n\n{preview}\n\nReply: {url}"))},
        {"participant": _C}),
    NotificationType(
        "payment_received", _l("Payment received"), _l("Payments"), TRANSACTIONAL,
        {"customer": _t(_l("Payment received"), _l("We received {amount} for {service} at {business}.")),
         "staff": _t(_l("Payment received"), _l("{customer} paid {amount} for {service}."))},
        {"customer": _E, "staff": _I}),
    NotificationType(
        "payment_failed", _l("Payment failed"), _l("Payments"), TRANSACTIONAL,
        {"customer": _t(_l("Payment failed"), _l("Your payment of {amount} to {business} failed: {reason}")),
         "staff": _t(_l("Payment failed"), _l("{customer}'s payment of {amount} failed: {reason}"))},
        {"customer": _C, "staff": _I}),
    NotificationType(
        "fee_uncollected", _l("Fee not collected"), _l("Payments"), TRANSACTIONAL,
        {"staff": _t(_l("Fee not collected"),
                     _l("{customer}'s fee of {amount} for {service} on {when} could not be charged: {reason}. "
                     "Settle it with them directly."))},
        {"staff": _E}),
    NotificationType(
        "refund_issued", _l("Refund issued"), _l("Payments"), TRANSACTIONAL,
        {"customer": _t(_l("Refund issued"), _l("{business} refunded {amount}. It may take a few days to arrive."))},
        {"customer": _E}),
    NotificationType(
        "hold_expired", _l("Request expired"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("Booking request expired"), _l("{business} did not confirm {service} at {business} on {when} in time, "
                                                   "so the time was released.")),
         "staff": _t(_l("Request expired"), _l("{customer}'s request for {service} on {when} expired unconfirmed."))},
        {"customer": _C, "staff": _I}),
    NotificationType(
        "subscription_past_due", _l("Subscription past due"), _l("Billing"), TRANSACTIONAL,
        {"owner": _t(_l("Payment for your Plaza plan is past due"),
                     _l("We could not charge {amount} for {business}'s plan. Update your card to keep taking bookings."))},
        {"owner": _C}, locked=frozenset({EMAIL})),
    NotificationType(
        "subscription_recovered", _l("Subscription recovered"), _l("Billing"), TRANSACTIONAL,
        {"owner": _t(_l("Your Plaza plan is active again"), _l("Thanks: the payment for {business}'s plan went through."))},
        {"owner": _E}),
    NotificationType(
        "trial_ending", _l("Trial ending"), _l("Billing"), TRANSACTIONAL,
        {"owner": _t(_l("Your trial ends on {date}"), _l("{business}'s free trial ends on {date}. Choose a plan to continue."))},
        {"owner": _E}),
    NotificationType(
        "staff_invited", _l("Staff invitation"), _l("Team"), TRANSACTIONAL,
        {"user": _t(_l("You are invited to {business}"), _l("{inviter} invited you to join {business} as {role}."))},
        {"user": _E}, locked=frozenset({EMAIL})),
    NotificationType(
        "staff_joined", _l("Staff joined"), _l("Team"), TRANSACTIONAL,
        {"staff": _t(_l("{member} joined {business}"), _l("{member} accepted the invitation and joined as {role}."))},
        {"staff": _I}),
    NotificationType(
        "account_email_verified", _l("Email verified"), _l("Account"), TRANSACTIONAL,
        {"user": _t(_l("Email address verified"), _l("Your email address {email} is verified. Welcome to Plaza!"))},
        {"user": _I}),
    NotificationType(
        "password_changed", _l("Password changed"), _l("Security"), TRANSACTIONAL,
        {"user": _t(_l("Your password was changed"), _l("The password of your Plaza account was changed on {when}. "
                                                 "If this was not you, reset it now."))},
        {"user": _E}, locked=frozenset({EMAIL})),
    NotificationType(
        "new_login_unknown_device", _l("New sign-in"), _l("Security"), TRANSACTIONAL,
        {"user": _t(_l("New sign-in to your account"), _l("Someone signed in to your account from {device} ({ip}) on {when}. "
                                                   "If this was not you, change your password."))},
        {"user": _C}, locked=frozenset({EMAIL})),
    NotificationType(
        "business_announcement", _l("News and offers from businesses"), _l("News"), MARKETING,
        {"customer": _t(_l("{business}: {headline}"), "{message}")},
        {"customer": _E}),
    # ---- issue 12 (Q): the platform's sanctions and moderation outcomes (app.admin)
    NotificationType(
        "platform_warning", _l("Warning from Plaza"), _l("Account"), TRANSACTIONAL,
        {"user": _t(_l("A warning from Plaza"), _l("{message} Reason: {reason}")),
         "owner": _t(_l("A warning from Plaza about {business}"), _l("{message} Reason: {reason}"))},
        {"user": _E, "owner": _E}, locked=frozenset({EMAIL})),
    NotificationType(
        "platform_suspension", _l("Suspension by Plaza"), _l("Account"), TRANSACTIONAL,
        {"user": _t(_l("Your Plaza account is suspended"), _l("{message} Reason: {reason}")),
         "owner": _t(_l("{business} is suspended on Plaza"), _l("{message} Reason: {reason}"))},
        {"user": _E, "owner": _E}, locked=frozenset({EMAIL})),
    NotificationType(
        "business_unavailable", _l("Business unavailable"), _l("Bookings"), TRANSACTIONAL,
        {"customer": _t(_l("{business} is unavailable"), _l("{business} is not available on Plaza at the moment, so your "
                                                     "booking of {service} on {when} may not go ahead. "
                                                     "Please contact them or book elsewhere."))},
        {"customer": _E}),
    NotificationType(
        "report_outcome", _l("Outcome of your report"), _l("Account"), TRANSACTIONAL,
        {"user": _t(_l("Your report was reviewed"), _l("Thanks for reporting \"{preview}\". {message}"))},
        {"user": _E}),
    NotificationType(  # platform broadcasts (app.broadcasts): to consenting customers, and to businesses' owners
        "platform_news", _l("News and offers from Plaza"), _l("News"), MARKETING,
        {"customer": _t("{headline}", "{message}")}, {"customer": _E}),
    NotificationType(
        "platform_announcement", _l("Announcements from Plaza"), _l("Account"), TRANSACTIONAL,
        {"owner": _t("{headline}", "{message}")}, {"owner": _E}),
    # Disputes and refund requests (issue 12): one type per step, both sides.
    NotificationType(
        "dispute_opened", _l("Dispute or refund request opened"), _l("Disputes and refunds"), TRANSACTIONAL,
        {"customer": _t(_l("Your {case} was sent to {business}"), _l("{business} has until {deadline} to answer. Reason: {reason}.")),
         "staff": _t(_l("New {case} from {customer}"), _l("{customer} opened a {case} ({reason}). Answer by {deadline}, "
                                                  "or the platform decides."))},
        {"customer": _E, "staff": _E}),
    NotificationType(
        "dispute_deadline_soon", _l("Deadline to answer a dispute soon"), _l("Disputes and refunds"), TRANSACTIONAL,
        {"customer": _t(_l("Your {case} is waiting for {business}"), _l("{business} has until {deadline} to answer.")),
         "staff": _t(_l("Answer the {case} by {deadline}"), _l("{customer}'s {case} goes to the platform at {deadline} "
                                                       "unless you answer."))},
        {"customer": _I, "staff": _E}),
    NotificationType(
        "dispute_escalated", _l("Dispute sent to the platform"), _l("Disputes and refunds"), TRANSACTIONAL,
        {"customer": _t(_l("Your {case} is with the platform"), _l("{business} {answered}. The platform will decide.")),
         "staff": _t(_l("The {case} from {customer} is with the platform"), _l("{customer}'s {case}: {answered}. "
                                                                          "The platform will decide."))},
        {"customer": _E, "staff": _E}),
    NotificationType(
        "dispute_decided", _l("Dispute or refund request decided"), _l("Disputes and refunds"), TRANSACTIONAL,
        {"customer": _t(_l("Decision on your {case}: {decision}"), _l("{decision} ({refund} refunded). {reason}")),
         "staff": _t(_l("Decision on {customer}'s {case}: {decision}"), _l("{decision} ({refund} refunded). {reason}"))},
        {"customer": _E, "staff": _E}),
    NotificationType(
        "dispute_updated", _l("Dispute updated"), _l("Disputes and refunds"), TRANSACTIONAL,
        {"customer": _t(_l("Your {case} was updated"), _l("Status: {status}. {reason}")),
         "staff": _t(_l("{customer}'s {case} was updated"), _l("Status: {status}. {reason}"))},
        {"customer": _I, "staff": _E}),
)

_BY_KEY: dict[str, NotificationType] = {t.key: t for t in TYPES}

#: Types nobody gets until they switch a channel on (opt-in): the daily agenda.
OPT_IN = frozenset({"daily_agenda"})

#: Booking outbox event -> (type, audiences) when the actor does not matter.
#: See :func:`types_for_booking_event` for the actor-dependent ones.
_BOOKING_EVENTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "booking.requested": (("booking_requested", ("customer", "staff")),),
    "booking.declined": (("booking_declined", ("customer",)),),
    "booking.expired": (("hold_expired", ("customer", "staff")),),
    "booking.hold_expired": (("hold_expired", ("customer", "staff")),),
    "booking.rescheduled": (("booking_rescheduled", ("customer", "staff")),),
    "booking.completed": (("booking_completed", ("customer",)), ("review_requested", ("customer",))),
    "booking.no_show": (("booking_no_show", ("customer",)),),
}

#: Sample context with every field any template uses (tests and previews render with it).
SAMPLE_CONTEXT: dict[str, str] = {
    "service": "Haircut", "business": "Bella Hair Studio", "when": "Tuesday 24 November 2026, 10:00",
    "time": "10:00", "previous_when": "Monday 23 November 2026, 14:00", "customer": "Alice Andersen",
    "staff": "Staff 1", "reason": "", "url": "https://bella.plaza.example/", "sender": "Bella Hair Studio",
    "preview": "See you tomorrow!", "amount": "500.00 DKK", "date": "1 December 2026", "inviter": "Bella",
    "role": "staff", "member": "Bob", "email": "alice@example.com", "device": "Firefox on Linux",
    "ip": "192.0.2.1", "headline": "Winter offer", "message": "20% off all colouring in December.",
    "deadline": "Thursday 26 November 2026, 10:00", "book_url": "https://bella.plaza.example/",
    "policy": "Missed appointments may be charged in full.", "count": "3 bookings",
    "agenda": "09:00 Haircut with Alice Andersen",
    "rating": "5", "author": "Anna K.",
    "case": "dispute", "decision": "Partial refund", "refund": "200.00 DKK", "status": "with the platform",
    "answered": "answered",
}


def get(key: str) -> NotificationType:
    """The type registered as ``key``.

    Raises:
        UnknownNotificationType: no such type.
    """
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownNotificationType(key) from None


def all_types() -> tuple[NotificationType, ...]:
    """Every registered type, in registry order."""
    return TYPES


def types_for_booking_event(kind: str, actor: str | None) -> list[tuple[str, tuple[str, ...]]]:
    """``(type key, audiences)`` pairs a booking outbox event ``kind`` causes.

    ``actor`` is the event payload's actor (``None`` for a booking created directly as
    confirmed). A confirmation made by staff tells only the customer (the staff did it); a
    cancellation is "by customer" when the customer cancelled, else "by business".
    """
    if kind == "booking.confirmed":
        return [("booking_confirmed", ("customer", "staff") if actor is None else ("customer",))]
    if kind == "booking.cancelled":
        if actor == "customer":
            return [("booking_cancelled_by_customer", ("customer", "staff"))]
        return [("booking_cancelled_by_business", ("customer",))]
    return list(_BOOKING_EVENTS.get(kind, ()))
