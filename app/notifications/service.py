"""Notification rules: which jobs an outbox event causes, dedup keys, reminder timing, and
the read model (:class:`BookingFacts`) that emails and calendar files are built from.

Nothing here writes: the delivery protocol is in :mod:`app.delivery.pipeline`, the
jobs in :mod:`app.notifications.tasks`.

Reminder rule (documented choice):

* A booking gets a reminder 24 hours and one 2 hours before its start, while it is
  ``confirmed`` and the start is still ahead.
* A reminder is only sent if the booking's current time was settled before that reminder
  point: the latest booking event (created, confirmed or rescheduled) happened at or before
  ``start - offset``. A booking made (or moved, or confirmed by staff) 20 hours before its
  start gets no 24 h reminder, since its confirmation just went out, but does get the 2 h one;
  one made 1 hour before its start gets neither.
* Each reminder has a window: the 24 h reminder from ``start - 24h`` until ``start - 2h``, the
  2 h reminder from ``start - 2h`` until the start. A reminder recovered late (a lost job, a
  dead worker) is still sent inside its window; once the 2 h reminder is due it supersedes a
  24 h reminder that never went out, so the customer never gets two at once.
* A rescheduled booking has a new start and so new dedup keys: its reminders go out again
  for the new time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.booking.items import items_by_booking, services_label
from app.booking.models import Booking, BookingEvent, BookingStatus, Customer
from app.booking.service import email_confirm_token, manage_token
from app.catalog.models import Service, StaffMember
from app.catalog.translations import localized
from app.delivery.models import Delivery
from app.delivery.pipeline import FINAL_STATUSES
from app.extensions import db
from app.i18n import language_of
from app.jobs.runner import JobSpec
from app.team.tasks import invitation_jobs
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url
from app.timeutil import zone

TASKS = "app.notifications.tasks"
#: The fan-out job every outbox event is relayed to.
FANOUT_JOB = "app.notifications.fanout.fanout_event"

#: Outbox event kind -> the customer email it causes.
CUSTOMER_EMAILS: dict[str, str] = {
    "booking.confirmed": "confirmed",
    "booking.requested": "requested",
    "booking.rescheduled": "changed",
    "booking.cancelled": "cancelled",
    "booking.declined": "declined",
    "booking.expired": "expired",
    "booking.awaiting_email": "confirm_email",
    "booking.completed": "completed",
    "booking.no_show": "no_show",
}

#: How long after a booking's end a "thank you" or "we missed you" email still goes out.
AFTER_VISIT_WINDOW = timedelta(days=7)

#: Events after which the booking's reminders are (re)scheduled.
SCHEDULES_REMINDERS = frozenset({"booking.confirmed", "booking.rescheduled"})

#: Reminder name -> how long before the start it is due.
REMINDERS: dict[str, timedelta] = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}

#: Every email kind a booking can get (customer side), used by templates and key parsing.
EMAIL_KINDS = frozenset({*CUSTOMER_EMAILS.values(), "reminder24h", "reminder2h"})


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router (:data:`app.outbox.relay.ROUTERS`): the email jobs an outbox event causes
    (empty for events with no email, e.g. completed).

    Customer emails for the booking events, reminder scheduling after a confirmation or a
    reschedule, a staff email for a new booking or request and for a customer's cancellation or move,
    and the invitation email of a ``staff.invited`` event (:mod:`app.team.tasks`).
    """
    booking_id = (payload or {}).get("booking_id")
    if not booking_id:
        return [JobSpec(func, args) for func, args in invitation_jobs(kind, tenant_id, event_id, payload or {})]
    specs: list[JobSpec] = []
    email = CUSTOMER_EMAILS.get(kind)
    if email and customer_told(payload or {}):
        specs.append(JobSpec(f"{TASKS}.send_booking_email", (tenant_id, booking_id, email, event_id)))
    if kind in SCHEDULES_REMINDERS:
        specs.append(JobSpec(f"{TASKS}.schedule_booking_reminders", (tenant_id, booking_id)))
    actor = (payload or {}).get("actor")
    staff_kind = None
    if kind == "booking.requested":
        staff_kind = "request"
    elif kind == "booking.confirmed" and actor in (None, "system"):
        staff_kind = "new"
    elif kind == "booking.cancelled" and actor == "customer":
        staff_kind = "cancelled"
    elif kind == "booking.rescheduled" and actor == "customer":
        staff_kind = "moved"
    if staff_kind:
        specs.append(JobSpec(f"{TASKS}.send_staff_booking_email", (tenant_id, booking_id, staff_kind, event_id)))
    return specs


def customer_told(payload: Mapping[str, object]) -> bool:
    """False when the event's payload says the customer must not hear of it: staff unticked
    "Notify the customer" at the front desk, or the customer has no email address
    (``notify_customer: false``, :func:`app.booking.desk.book_by_staff`). Absent means told."""
    return payload.get("notify_customer") is not False


def fanout_jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router (:data:`app.outbox.relay.ROUTERS`): every event goes to the notification
    fan-out (:func:`app.notifications.fanout.fanout_event`), which decides who is told."""
    return [JobSpec(FANOUT_JOB, (tenant_id, event_id))]


def booking_email_key(booking_id: uuid.UUID | str, kind: str, event_id: uuid.UUID | str) -> str:
    """Dedup key of the customer email ``kind`` caused by outbox event ``event_id``."""
    return f"booking:{booking_id}:{kind}:{event_id}"


def staff_email_key(booking_id: uuid.UUID | str, kind: str, event_id: uuid.UUID | str) -> str:
    """Dedup key of the staff email ``kind`` (``new``/``request``/``cancelled``) caused by ``event_id``."""
    return f"booking:{booking_id}:staff-{kind}:{event_id}"


def reminder_key(booking_id: uuid.UUID | str, which: str, starts_at: datetime) -> str:
    """Dedup key of reminder ``which`` (``24h``/``2h``) for the booking starting at ``starts_at``.

    ``booking:<id>:reminder24:<start ISO 8601 UTC>``: a new start gives new keys.
    """
    return f"booking:{booking_id}:reminder{which.removesuffix('h')}:{starts_at.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class ParsedKey:
    """A booking dedup key taken apart: ``kind`` is an email kind, ``staff-…`` or ``reminder24``/``reminder2``;
    ``rest`` is the event id or the start ISO string."""

    booking_id: str
    kind: str
    rest: str


def parse_key(key: str) -> ParsedKey | None:
    """Split a key made by the ``*_key`` functions, or ``None`` for a foreign one."""
    parts = key.split(":", 3)
    if len(parts) != 4 or parts[0] != "booking":
        return None
    return ParsedKey(parts[1], parts[2], parts[3])


def reminder_due_at(starts_at: datetime, which: str) -> datetime:
    """The instant reminder ``which`` becomes due (UTC)."""
    return starts_at - REMINDERS[which]


def due_reminder(starts_at: datetime, last_change_at: datetime | None, now: datetime) -> str | None:
    """Which reminder (``"24h"``, ``"2h"``) is due at ``now`` for a confirmed booking, per the module rule.

    ``last_change_at`` is the time of the booking's latest event (``None``: treated as always
    settled). Returns ``None`` outside both windows or when the due one is not eligible.
    """
    if now >= starts_at:
        return None
    two, day = reminder_due_at(starts_at, "2h"), reminder_due_at(starts_at, "24h")
    if now >= two:
        which, due = "2h", two
    elif now >= day:
        which, due = "24h", day
    else:
        return None
    if last_change_at is not None and last_change_at > due:
        return None
    return which


def last_change_at(booking_id: uuid.UUID) -> datetime | None:
    """Time of the booking's latest recorded event (created, confirmed, rescheduled…)."""
    return last_changes([booking_id]).get(booking_id)


def last_changes(booking_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """:func:`last_change_at` of many bookings in one query: booking id -> its latest event's
    time (bookings without events absent)."""
    if not booking_ids:
        return {}
    return dict(db.session.execute(
        sa.select(BookingEvent.booking_id, sa.func.max(BookingEvent.at))
        .where(BookingEvent.booking_id.in_(list(booking_ids))).group_by(BookingEvent.booking_id)).all())


def _due_unsent(now: datetime, since: datetime | None = None) -> sa.Select:
    """Confirmed bookings starting within 24 h after ``now`` whose currently due reminder is not
    settled yet (sent, skipped or undeliverable): ``(tenant_id, id)`` ordered by start (see
    :func:`reminder_candidates`); with ``since``, only those whose reminder fell due after it."""
    which = sa.case((Booking.starts_at <= now + REMINDERS["2h"], "2"), else_="24")
    start_utc = sa.func.to_char(sa.func.timezone("UTC", Booking.starts_at), 'YYYY-MM-DD"T"HH24:MI:SS')
    key = sa.func.concat("booking:", sa.cast(Booking.id, sa.String), ":reminder", which, ":", start_utc, "+00:00")
    already_sent = sa.exists().where(Delivery.tenant_id == Booking.tenant_id, Delivery.dedup_key == key,
                                     Delivery.status.in_(FINAL_STATUSES))
    query = (sa.select(Booking.tenant_id, Booking.id)
             .where(Booking.status == BookingStatus.CONFIRMED.value, Booking.starts_at > now,
                    Booking.starts_at <= now + REMINDERS["24h"], ~already_sent)
             .order_by(Booking.starts_at))
    if since is not None:  # a reminder falls due once its start comes within its lead time
        query = query.where(sa.or_(*(sa.and_(Booking.starts_at > since + lead, Booking.starts_at <= now + lead)
                                     for lead in REMINDERS.values())))
    return query


def reminder_candidates(now: datetime, limit: int = 500,
                        since: datetime | None = None) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(tenant_id, booking_id)`` of confirmed bookings, across tenants, starting within 24 h after
    ``now`` whose currently due reminder has not been settled yet (sent, or recorded as skipped or
    undeliverable: nothing more would be tried). With ``since`` (an instant before ``now``), only
    those whose reminder fell due after ``since``: a booking starting in more than 24 h (or 2 h)
    from ``since``; the rest were seen by the scan at ``since``.

    A platform-wide scan (``platform_scope``); callers re-check each booking in its tenant.
    The "already sent" filter rebuilds the :func:`reminder_key` in SQL (start at whole seconds,
    as slots are); a start with fractional seconds is simply never filtered out here.
    """
    with platform_scope("reminder sweep"):
        return [(t, b) for t, b in db.session.execute(_due_unsent(now, since).limit(limit))]


def unsent_due_reminders(booking_ids: list[uuid.UUID], now: datetime) -> list[uuid.UUID]:
    """Those of ``booking_ids`` (tenant in scope) that are still :func:`reminder_candidates` at
    ``now``, in start order: one query, so a batch skips what another worker already sent."""
    return [b for _, b in db.session.execute(_due_unsent(now).where(Booking.id.in_(booking_ids)))]


def stale_deliveries(older_than: datetime, limit: int = 200) -> list[tuple[uuid.UUID, str]]:
    """``(tenant_id, dedup_key)`` of direct deliveries (no notification), across tenants, stuck in
    ``sending`` since before ``older_than``."""
    with platform_scope("reclaim stale deliveries"):
        rows = db.session.execute(
            sa.select(Delivery.tenant_id, Delivery.dedup_key)
            .where(Delivery.notification_id.is_(None), Delivery.tenant_id.is_not(None), Delivery.status == "sending",
                   Delivery.claimed_at < older_than)
            .order_by(Delivery.claimed_at).limit(limit))
        return [(t, k) for t, k in rows]


class MissingBookingRecord(LookupError):
    """A booking's business, service, staff member or customer row is missing (the foreign keys
    make this impossible unless the data was changed by hand)."""


@dataclass(frozen=True)
class BookingFacts:
    """Everything an email or calendar file says about one booking (read in its tenant).

    Instants are tz-aware UTC; ``price_amount`` in minor units of ``currency``; ``sequence``
    is the iCalendar SEQUENCE (number of booking events minus one, so it grows with each change).
    """

    booking_id: uuid.UUID
    tenant_id: uuid.UUID
    status: str
    starts_at: datetime
    ends_at: datetime
    business_name: str
    business_timezone: str
    service_name: str
    duration_minutes: int
    staff_name: str
    staff_email: str | None
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    customer_timezone: str
    price_amount: int
    currency: str
    notes: str
    cancel_reason: str | None
    cancelled_by: str | None
    manage_url: str
    business_url: str
    sequence: int
    created_at: datetime
    #: Where it takes place: the business's name and address (``Tenant.location``), for "Where:" and LOCATION.
    business_location: str = ""
    #: The booking's services in order when it has several, each ``(name, minutes, price minor units)``;
    #: empty for one service (``service_name`` then names it; with several it joins them: ``Cut + Colour``).
    services: tuple[tuple[str, int, int], ...] = ()
    #: The customer record (``None`` only in facts built by hand).
    customer_id: uuid.UUID | None = None


def manage_url(tenant: Tenant, booking: Booking) -> str:
    """Absolute URL of the booking's manage page on the tenant's host (for emails).

    Scheme ``PREFERRED_URL_SCHEME``, host ``<slug>.<PLATFORM_DOMAIN>``, ``:PUBLIC_PORT`` unless
    the scheme's default (:func:`app.tenants.urls.tenant_url`).
    """
    return tenant_url(tenant, f"/manage/{manage_token(booking)}")


def email_confirm_url(facts: BookingFacts) -> str:
    """Absolute URL (from configuration, like :func:`manage_url`) of the page where a guest
    confirms an ``awaiting_email`` booking.

    Raises:
        MissingBookingRecord: the booking's business row is gone.
    """

    tenant = db.session.get(Tenant, facts.tenant_id)
    if tenant is None:
        raise MissingBookingRecord(f"tenant {facts.tenant_id} of booking {facts.booking_id}")
    return tenant_url(tenant, f"/booked/confirm-email/{email_confirm_token(facts.tenant_id, facts.booking_id)}")


def valid_zone(name: str | None, fallback: str) -> str:
    """``name`` when it is a known IANA zone, else ``fallback``."""
    try:
        zone(name or "")
    except ValueError:
        return fallback
    return name or fallback


def load_booking_facts(booking_id: uuid.UUID) -> BookingFacts | None:
    """The facts of a booking of the tenant in scope, or ``None`` when it does not exist; the
    service's name in the reader's language (load inside the recipient's ``speaking``).

    Raises:
        MissingBookingRecord: the booking exists but a row it points to does not.
    """
    return load_booking_facts_many([booking_id]).get(booking_id)


def load_booking_facts_many(booking_ids: Sequence[uuid.UUID],
                            locales: Mapping[uuid.UUID, str] | None = None) -> dict[uuid.UUID, BookingFacts]:
    """The facts of many bookings of the tenant in scope in a fixed number of queries (seven,
    however many bookings): booking id -> :class:`BookingFacts`, bookings that do not exist
    absent. Each service name is in the language of ``locales[booking id]`` (a Babel
    identifier, e.g. each customer's), else the reader's.

    Raises:
        MissingBookingRecord: a booking exists but a row it points to does not.
    """
    ids = list(dict.fromkeys(booking_ids))
    if not ids:
        return {}
    bookings = list(db.session.scalars(sa.select(Booking).where(Booking.id.in_(ids))))
    if not bookings:
        return {}
    services = {s.id: s for s in db.session.scalars(
        sa.select(Service).where(Service.id.in_({b.service_id for b in bookings})))}
    staff = {s.id: s for s in db.session.scalars(
        sa.select(StaffMember).where(StaffMember.id.in_({b.staff_id for b in bookings})))}
    customers = {c.id: c for c in db.session.scalars(
        sa.select(Customer).where(Customer.id.in_({b.customer_id for b in bookings})))}
    events = dict(db.session.execute(
        sa.select(BookingEvent.booking_id, sa.func.count()).where(BookingEvent.booking_id.in_(ids))
        .group_by(BookingEvent.booking_id)).all())
    items = items_by_booking(ids)
    facts: dict[uuid.UUID, BookingFacts] = {}
    for booking in bookings:
        tenant = db.session.get(Tenant, booking.tenant_id)
        service, member, customer = (services.get(booking.service_id), staff.get(booking.staff_id),
                                     customers.get(booking.customer_id))
        if tenant is None or service is None or member is None or customer is None:
            raise MissingBookingRecord(f"booking {booking.id} lacks its business, service, staff member or customer")
        listed = items.get(booking.id, [])
        several = tuple((i.name, i.duration_minutes, i.price_amount) for i in listed) if len(listed) > 1 else ()
        locale = (locales or {}).get(booking.id)
        facts[booking.id] = BookingFacts(
            booking_id=booking.id, tenant_id=booking.tenant_id, status=booking.status,
            starts_at=booking.starts_at, ends_at=booking.ends_at,
            business_name=tenant.name, business_timezone=tenant.timezone,
            service_name=(services_label([s[0] for s in several]) if several
                          else localized(service, "name", language_of(locale) if locale else None)),
            services=several, duration_minutes=int((booking.ends_at - booking.starts_at).total_seconds() // 60),
            staff_name=member.name, staff_email=member.email,
            customer_name=customer.name, customer_email=customer.email, customer_phone=customer.phone,
            customer_timezone=valid_zone(booking.customer_timezone, tenant.timezone),
            price_amount=booking.price_amount, currency=booking.currency, notes=booking.notes or "",
            cancel_reason=booking.cancel_reason, cancelled_by=booking.cancelled_by,
            manage_url=manage_url(tenant, booking), business_url=tenant_url(tenant),
            sequence=max(0, (events.get(booking.id) or 1) - 1), created_at=booking.created_at,
            business_location=tenant.location, customer_id=customer.id,
        )
    return facts


def customer_email_relevant(facts: BookingFacts, kind: str, now: datetime) -> bool:
    """Whether the customer email ``kind`` still makes sense when its job runs.

    Nothing is sent about a booking that has already ended, except the emails after the visit
    (``completed``, ``no_show``: while the booking is in that state, up to
    :data:`AFTER_VISIT_WINDOW` after its end); a request notice only while the booking is
    pending; a confirmation or change only while it is still active; a cancellation only when
    it is cancelled. A newer state has its own email. Never for a customer without an email
    address (known by phone only).
    """
    if not facts.customer_email:
        return False
    status = facts.status
    if kind in {"completed", "no_show"}:
        wanted = BookingStatus.COMPLETED.value if kind == "completed" else BookingStatus.NO_SHOW.value
        return status == wanted and now - facts.ends_at <= AFTER_VISIT_WINDOW
    if facts.ends_at <= now:
        return False
    if kind == "requested":
        return status == BookingStatus.PENDING.value
    if kind == "confirmed":
        return status == BookingStatus.CONFIRMED.value
    if kind == "changed":
        return status in {BookingStatus.CONFIRMED.value, BookingStatus.PENDING.value}
    if kind in {"cancelled", "declined", "expired"}:
        return status == BookingStatus.CANCELLED.value
    if kind == "confirm_email":
        return status == BookingStatus.AWAITING_EMAIL.value
    return False
