"""Booking and account emails: subject, plain text, HTML (``app/templates/emails/``) and
the ``.ics`` attachment, in the business's name and the customer's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import Message

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.booking.service import email_confirm_ttl
from app.checkout.policy import policy_lines_for_booking
from app.delivery.mailer import build_message, finish_message, local, mail_address, sender
from app.formatting import format_duration, format_money
from app.notifications.ics import booking_calendar
from app.notifications.service import BookingFacts, email_confirm_url
from app.payments.ledger import paid_amounts
from app.reviews.links import review_url_for


@dataclass(frozen=True)
class Wording:
    """What one kind of booking email says: ``subject`` and ``heading`` are format strings
    over ``service``, ``business``, ``when`` (customer-local date and time) and ``time``; lazy
    strings, read in the recipient's language when the email is built."""

    subject: str
    heading: str
    intro: str


WORDING: dict[str, Wording] = {
    "confirmed": Wording(_l("Booking confirmed: {service} on {when}"), _l("Your booking is confirmed"),
                         _l("Thank you for booking with {business}. We look forward to seeing you.")),
    "requested": Wording(_l("Booking request received: {service} on {when}"), _l("We have received your booking request"),
                         _l("{business} confirms bookings by hand. You will get another email as soon as your "
                         "booking is confirmed; until then the time is held for you.")),
    "changed": Wording(_l("Booking changed: {service} now on {when}"), _l("Your booking has been changed"),
                       _l("Your booking with {business} has moved to a new time. The details below are up to date.")),
    "cancelled": Wording(_l("Booking cancelled: {service} on {when}"), _l("Your booking has been cancelled"),
                         _l("Your booking with {business} has been cancelled.")),
    "declined": Wording(_l("Booking request declined: {service} on {when}"), _l("Your booking request was declined"),
                        _l("Unfortunately {business} could not accept your booking request.")),
    "expired": Wording(_l("Booking request expired: {service} on {when}"), _l("Your booking request has expired"),
                       _l("{business} did not confirm your request within 48 hours, so it has been cancelled "
                       "and the time released. You are welcome to book another time.")),
    "confirm_email": Wording(_l("Please confirm your booking: {service} on {when}"), _l("Confirm your booking"),
                             _l("You have several bookings with {business} already, so we need you to confirm this "
                             "one from your email. Until you do, the time is not reserved; unconfirmed requests "
                             "are released after {minutes} minutes.")),
    "reminder24h": Wording(_l("Reminder: {service} at {business} on {when}"), _l("See you soon"),
                           _l("This is a reminder of your upcoming booking with {business}.")),
    "reminder2h": Wording(_l("Starting soon: {service} at {business} at {time}"), _l("Your appointment starts soon"),
                          _l("Your booking with {business} starts in a little while.")),
    "completed": Wording(_l("How was {service}? Thank you for visiting {business}"), _l("Thank you for your visit"),
                         _l("Thank you for visiting {business}. We hope you enjoyed your {service} and look forward "
                         "to seeing you again.")),
    "no_show": Wording(_l("We missed you at {business}: {service} on {when}"), _l("We missed you"),
                       _l("{business} recorded that you did not come to your {service} booking. If this is a "
                       "mistake, please let {business} know.")),
}

#: Email kinds sent after the visit (no calendar file, no manage link: a "book again" link).
AFTER_VISIT = frozenset({"completed", "no_show"})

STAFF_WORDING: dict[str, Wording] = {
    "new": Wording(_l("New booking: {service} with {customer} on {when}"), _l("New booking"),
                   _l("{customer} booked {service} with {staff}.")),
    "request": Wording(_l("New booking request: {service} with {customer} on {when}"), _l("New booking request"),
                       _l("{customer} asked to book {service} with {staff}. Please confirm or decline it on "
                       "your dashboard; requests not confirmed within 48 hours are cancelled automatically.")),
    "cancelled": Wording(_l("Booking cancelled by customer: {service} on {when}"), _l("Booking cancelled by the customer"),
                         _l("{customer} cancelled their booking of {service} with {staff}.")),
    "moved": Wording(_l("Booking moved by customer: {service} now on {when}"), _l("Booking moved by the customer"),
                     _l("{customer} moved their booking of {service} with {staff} to a new time (was {previous_when}).")),
    "waiting": Wording(_l("Booking request waiting: {service} with {customer} on {when}"), _l("A booking request is waiting"),
                       _l("{customer}'s request for {service} with {staff} is still waiting for you. Unless you "
                       "confirm it, it is cancelled automatically on {deadline}. Open it to confirm or decline.")),
}

def _times(facts: BookingFacts) -> dict[str, str]:
    """Display strings of the booking's start and end, in the customer's and the business's zones."""
    cz, bz = facts.customer_timezone, facts.business_timezone
    return {
        "when": local(facts.starts_at, cz),
        "time": local(facts.starts_at, cz, "%H:%M"),
        "until": local(facts.ends_at, cz, "%H:%M"),
        "customer_zone": cz,
        "business_zone": bz,
        "business_when": local(facts.starts_at, bz),
        "offset": local(facts.starts_at, cz, "UTC%z"),
    }


def _paid(facts: BookingFacts, paid: int | None) -> str | None:
    """What the customer has paid on the booking so far (``paid`` minor units, read from the
    ledger when ``None``), formatted (``None``: nothing)."""
    if paid is None:
        paid = paid_amounts([facts.booking_id]).get(facts.booking_id, 0)
    return format_money(paid, facts.currency) if paid > 0 else None


def no_show_policy(facts: BookingFacts) -> str:
    """What a no-show email says about the policy: the business's own lines about missed
    appointments when its payment policy has any, else a polite general sentence. Tenant in scope."""
    lines = [line for line in policy_lines_for_booking(facts.booking_id)
             if any(word in line.lower() for word in ("no-show", "miss", "not come", "do not show"))]
    return " ".join(lines) or _("If you cannot come to a booking, please cancel it or let %(business)s know in "
                                "advance, so the time can go to someone else.", business=facts.business_name)


def booking_email(facts: BookingFacts, kind: str, *, previous_start: datetime | None = None,
                  now: datetime | None = None, to: Address | None = None, paid: int | None = None) -> Message:
    """The customer email ``kind`` (a key of :data:`WORDING`) for the booking, ready to send,
    to ``to`` (default: the customer record's name and address). ``paid``: what the customer
    has paid so far in minor units, when the caller read it already (a batch, for many bookings
    at once: :func:`app.payments.ledger.paid_amounts`); else it is read here.

    Plain text and HTML bodies from ``emails/booking.txt`` / ``.html``; the booking as
    ``booking.ics`` (METHOD REQUEST, or CANCEL for a cancelled booking).

    Raises:
        KeyError: unknown ``kind``.
        UndeliverableAddress: the stored customer address cannot go in a header.
    """
    to = to or mail_address(facts.customer_name, facts.customer_email)  # first: the .ics needs a sane address too
    wording = WORDING[kind]
    times = _times(facts)
    fields = {"service": facts.service_name, "business": facts.business_name, "staff": facts.staff_name,
              "customer": facts.customer_name, "minutes": int(email_confirm_ttl().total_seconds() // 60), **times}
    context = {
        "facts": facts, "kind": kind, "times": times, "same_zone": facts.customer_timezone == facts.business_timezone,
        "heading": wording.heading.format(**fields), "intro": wording.intro.format(**fields),
        "price": format_money(facts.price_amount, facts.currency),
        "duration": format_duration(facts.duration_minutes),
        "previous_when": local(previous_start, facts.customer_timezone) if previous_start else None,
        "is_cancellation": kind in {"cancelled", "declined", "expired"},
        "cancelled_by_customer": facts.cancelled_by == "customer",
        "payment_policy": ([] if kind in {"cancelled", "declined", "expired"} | AFTER_VISIT
                           else policy_lines_for_booking(facts.booking_id)),
        "after_visit": kind in AFTER_VISIT,
        "no_show_policy": no_show_policy(facts) if kind == "no_show" else None,
        "paid": _paid(facts, paid),
        "confirm_url": email_confirm_url(facts) if kind == "confirm_email" else None,
        "review_url": review_url_for(facts.booking_id) if kind == "completed" else None,
    }
    text = render_template("emails/booking.txt", **context)
    html = render_template("emails/booking.html", **context)
    attachments = []
    if kind != "confirm_email" and kind not in AFTER_VISIT:  # nothing to put in a calendar before it is confirmed or after it
        ics = booking_calendar(facts, organizer_email=current_app.config["MAIL_FROM"], now=now)
        method = "CANCEL" if facts.status == "cancelled" else "REQUEST"
        attachments.append(("booking.ics", f"text/calendar; method={method}; charset=utf-8", ics))
    return finish_message(build_message(
        sender=sender(facts.business_name), to=to,
        subject=wording.subject.format(**fields), text=text, html=html, attachments=attachments,
    ), kind, now)


def booking_dashboard_url(facts: BookingFacts) -> str:
    """Absolute link to the booking's page in the dashboard (built from configuration, like
    :attr:`BookingFacts.business_url`), where staff confirm, decline or change it."""
    return facts.business_url.rstrip("/") + f"/dashboard/bookings/{facts.booking_id}"


def staff_email(facts: BookingFacts, kind: str, to: str | Address, now: datetime | None = None,
                context: Mapping[str, object] | None = None) -> Message:
    """The email telling staff at ``to`` about a booking (a key of :data:`STAFF_WORDING`: a new
    booking or request, a customer's cancellation or move, a request still waiting), with a link
    to the booking in the dashboard; times in the business's zone. ``context`` (the
    notification's) gives ``previous_when`` and ``deadline`` where the wording needs them."""
    wording = STAFF_WORDING[kind]
    bz = facts.business_timezone
    extra = context or {}
    fields = {"service": facts.service_name, "business": facts.business_name, "staff": facts.staff_name,
              "customer": facts.customer_name, "when": local(facts.starts_at, bz),
              "time": local(facts.starts_at, bz, "%H:%M"), "previous_when": str(extra.get("previous_when") or ""),
              "deadline": str(extra.get("deadline") or "")}
    context = {"facts": facts, "kind": kind, "heading": wording.heading.format(**fields),
               "intro": wording.intro.format(**fields), "when": fields["when"],
               "until": local(facts.ends_at, bz, "%H:%M"), "zone": bz,
               "price": format_money(facts.price_amount, facts.currency),
               "dashboard_url": facts.business_url.rstrip("/") + "/dashboard/",
               "booking_url": booking_dashboard_url(facts)}
    return finish_message(build_message(
        sender=sender(_("%(business)s via Plaza", business=facts.business_name)), to=to, subject=wording.subject.format(**fields),
        text=render_template("emails/staff_booking.txt", **context),
        html=render_template("emails/staff_booking.html", **context),
    ), f"staff-{kind}", now)


def reminder_kind(which: str) -> str:
    """Email kind of reminder ``which`` (``24h`` -> ``reminder24h``)."""
    return f"reminder{which}"
