"""The daily agenda: each morning, a staff member who asked for it (the ``daily_agenda``
notification type is opt-in: no channel is on until they switch one on in their preferences)
gets their bookings of the day in the business's time zone, on the channels they chose.

The periodic sweep (:func:`app.notifications.tasks.periodic_sweep`, every
``PLAZA_SWEEP_INTERVAL`` seconds) runs :func:`send_daily_agendas`, which looks for
members whose local time is between :data:`AGENDA_HOUR` and :data:`LATEST_HOUR`; each gets one
agenda per day (the notification's source key ``agenda:<business>:<day>`` and the email's dedup
key), and none when their day is empty. Bookings listed: confirmed and pending ones.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.booking.models import Booking, BookingStatus, Customer
from app.catalog.models import Service
from app.delivery.mailer import local
from app.extensions import db
from app.notifications import dispatch
from app.notifications.center_models import NotificationPreference, NotificationSource
from app.notifications.language import speaking, user_locale
from app.tenants.context import platform_scope, require_tenant_id, tenant_scope
from app.tenants.models import Membership, Tenant
from app.tenants.urls import tenant_url
from app.timeutil import utcnow, zone
from app.uow import after_commit, unit_of_work

log = logging.getLogger("plaza.notifications")

TYPE = "daily_agenda"
#: The agenda goes out from this local hour of the business's zone…
AGENDA_HOUR = 7
#: …and no later than this one (a worker that was down all morning sends nothing stale).
LATEST_HOUR = 12
#: Booking states an agenda lists.
LISTED = (BookingStatus.CONFIRMED.value, BookingStatus.PENDING.value)


def source_key(tenant_id: uuid.UUID, day: date) -> str:
    """The notification source key of one business's agenda for ``day`` (per person)."""
    return f"agenda:{tenant_id}:{day.isoformat()}"


def agenda_candidates(now: datetime) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, date]]:
    """``(tenant_id, user_id, staff_member_id, local day)`` of members linked to a staff
    member who switched a channel of the agenda on, whose business's local time at ``now`` is
    inside the sending hours and who have not had today's agenda. A platform-wide read."""
    opted_in = sa.select(NotificationPreference.user_id).where(
        NotificationPreference.type == TYPE, NotificationPreference.enabled.is_(True))
    with platform_scope("daily agendas"):
        rows = db.session.execute(
            sa.select(Membership.tenant_id, Membership.user_id, Membership.staff_member_id, Tenant.timezone)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.staff_member_id.is_not(None), Membership.user_id.in_(opted_in),
                   Tenant.suspended_at.is_(None))
            .order_by(Membership.tenant_id, Membership.created_at)).all()
        out = []
        for tenant_id, user_id, staff_member_id, tz in rows:
            local_now = now.astimezone(zone(tz or "UTC"))
            if not AGENDA_HOUR <= local_now.hour < LATEST_HOUR:
                continue
            day = local_now.date()
            seen = db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSource).where(
                NotificationSource.user_id == user_id, NotificationSource.source_key == source_key(tenant_id, day)))
            if not seen:
                out.append((tenant_id, user_id, staff_member_id, day))
        return out


def day_bookings(staff_member_id: uuid.UUID, day: date, tz: str) -> list[tuple[Booking, str, str]]:
    """The staff member's listed bookings on local ``day`` (zone ``tz``), by start, each with its
    service's and customer's names. Tenant in scope."""
    start = datetime.combine(day, time(0), tzinfo=zone(tz))
    end = start + timedelta(days=1)
    rows = db.session.execute(
        sa.select(Booking, Service.name, Customer.name)
        .join(Service, sa.and_(Service.tenant_id == Booking.tenant_id, Service.id == Booking.service_id))
        .join(Customer, sa.and_(Customer.tenant_id == Booking.tenant_id, Customer.id == Booking.customer_id))
        .where(Booking.staff_id == staff_member_id, Booking.status.in_(LISTED),
               Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at)).all()
    return [(b, service, customer) for b, service, customer in rows]


def agenda_text(rows: list[tuple[Booking, str, str]], tz: str) -> str:
    """One line per booking: ``09:00–10:00 Haircut with Alice Andersen`` (``(request)`` when pending)."""
    lines = []
    for booking, service, customer in rows:
        pending = _(" (request, not confirmed yet)") if booking.status == BookingStatus.PENDING.value else ""
        lines.append(f"{local(booking.starts_at, tz, '%H:%M')}–{local(booking.ends_at, tz, '%H:%M')} "
                     + _("%(service)s with %(customer)s", service=service, customer=customer) + pending)
    return "\n".join(lines)


def send_agenda(user_id: uuid.UUID, staff_member_id: uuid.UUID, day: date,
                now: datetime | None = None) -> dispatch.Notified | None:
    """Notify the member of their agenda for ``day`` (none for an empty day; once per day).
    Tenant in scope; flushes."""
    tenant = db.session.get(Tenant, require_tenant_id())
    tz = tenant.timezone or "UTC"
    rows = day_bookings(staff_member_id, day, tz)
    if not rows:
        return None
    with speaking(user_locale(user_id, tenant.id)):  # the member's language
        count = ngettext("%(num)d booking", "%(num)d bookings", len(rows))
        agenda = agenda_text(rows, tz)
    url = tenant_url(tenant, f"/dashboard/?view=day&date={day.isoformat()}&staff={staff_member_id}")
    return dispatch.notify(user_id=user_id, type_key=TYPE, audience="staff", tenant_id=tenant.id,
                           context={"business": tenant.name, "count": count, "agenda": agenda},
                           subject_key=f"agenda:{day.isoformat()}", url=url,
                           source_key=source_key(tenant.id, day),
                           email_key=f"agenda:{day.isoformat()}:{user_id}", now=now)


def send_daily_agendas(now: datetime | None = None) -> int:
    """Send every due agenda (:func:`agenda_candidates`); returns how many went out. One unit
    of work per member, in their business; a failure is logged and the next run tries again.
    Needs an app context."""
    now = now or utcnow()
    with unit_of_work():
        candidates = agenda_candidates(now)
    sent = 0
    for tenant_id, user_id, staff_member_id, day in candidates:
        with tenant_scope(tenant_id):
            try:
                with unit_of_work():
                    result = send_agenda(user_id, staff_member_id, day, now)
                    if result is not None and result.new:
                        after_commit(lambda result=result: dispatch.after_commit([result]))
                        sent += 1
            except Exception:  # noqa: BLE001 - one member's error must not stop the others'
                log.exception("daily agenda failed", extra={"user_id": str(user_id)})
    return sent
