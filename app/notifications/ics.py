"""iCalendar (RFC 5545 / iTIP RFC 5546) attachments for booking emails, built with ``icalendar``."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from app.booking.models import BookingStatus
from app.formatting import format_duration
from app.notifications.service import BookingFacts

PRODID = "-//Plaza//Bookings//EN"

_STATUS = {
    BookingStatus.PENDING.value: "TENTATIVE",
    BookingStatus.CONFIRMED.value: "CONFIRMED",
    BookingStatus.COMPLETED.value: "CONFIRMED",
    BookingStatus.NO_SHOW.value: "CONFIRMED",
    BookingStatus.CANCELLED.value: "CANCELLED",
}


def booking_uid(facts: BookingFacts) -> str:
    """The VEVENT UID, stable for the life of the booking: ``<booking id>@plaza``."""
    return f"{facts.booking_id}@plaza"


def booking_calendar(facts: BookingFacts, *, organizer_email: str, now: datetime | None = None) -> bytes:
    """A VCALENDAR with one VEVENT for the booking, as bytes (CRLF lines, UTF-8).

    ``METHOD`` is ``CANCEL`` for a cancelled booking and ``REQUEST`` otherwise; ``SEQUENCE``
    is ``facts.sequence``; DTSTART/DTEND/DTSTAMP are in UTC; ``STATUS`` follows the booking
    (TENTATIVE while pending). The organizer is the business (``organizer_email`` with the
    business name), the attendee the customer.
    """
    cancelled = facts.status == BookingStatus.CANCELLED.value
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", booking_uid(facts))
    event.add("sequence", facts.sequence)
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", facts.starts_at.astimezone(UTC))
    event.add("dtend", facts.ends_at.astimezone(UTC))
    event.add("summary", f"{facts.service_name} @ {facts.business_name}")
    event.add("location", vText(facts.business_location or facts.business_name))
    event.add("description", "\n".join([
        f"{facts.service_name} with {facts.staff_name} at {facts.business_name}.",
        *(f"- {name} ({format_duration(minutes)})" for name, minutes, _ in facts.services),
        f"Manage or cancel your booking: {facts.manage_url}",
    ]))
    event.add("url", facts.manage_url)
    event.add("status", _STATUS.get(facts.status, "CONFIRMED"))
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")

    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(facts.business_name)
    event.add("organizer", organizer)
    if facts.customer_email:  # a customer known by phone only is no attendee
        attendee = vCalAddress(f"mailto:{facts.customer_email}")
        attendee.params["cn"] = vText(facts.customer_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("DECLINED" if cancelled else "ACCEPTED")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()
