"""Telling people about the platform's sanctions, and closing the sanctioned subject's sockets.

* a warned or suspended person: ``platform_warning`` / ``platform_suspension`` (audience
  ``user``, in-app and email, the email locked on);
* a warned or suspended business: the same types for each owner (audience ``owner``), and on a
  suspension each upcoming customer with an account once (``business_unavailable``; the source
  key is per sanction and person, so a customer with three bookings hears once);
* a reporter: ``report_outcome`` (:func:`tell_reporter`).

Deliveries are enqueued after the commit. Call inside ``platform_scope``; functions flush.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import redis
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.admin.models import WARN, Sanction
from app.booking.models import ACTIVE_STATUSES, Booking, Customer
from app.catalog.models import Service
from app.extensions import db
from app.formatting import format_local
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.notifications.dispatch import Notified, enqueue_deliveries, notify
from app.realtime import closing
from app.redis_client import get_redis
from app.tenants.models import Membership, Role, Tenant
from app.tenants.urls import platform_url, tenant_url
from app.uow import after_commit

log = logging.getLogger("plaza.admin")


def _enqueue(done: list[Notified]) -> None:
    queued = [q for n in done for q in n.queued]
    if queued:
        after_commit(lambda: enqueue_deliveries(queued))


def recipient_locale(user_id: uuid.UUID) -> str:
    """The language the account ``user_id`` reads Plaza in (its saved choice), else English."""
    return supported_locale(db.session.scalar(sa.select(User.locale).where(User.id == user_id))) or DEFAULT_LANGUAGE


def _message(sanction: Sanction) -> str:
    """The sanction in words, in the locale in force (:func:`flask_babel.force_locale`)."""
    if sanction.kind == WARN:
        return _("Plaza's team has reviewed your activity and asks you to follow the platform's rules.")
    if sanction.ends_at:
        when = format_local(sanction.ends_at, "UTC", "%d %B %Y, %H:%M")
        if sanction.kind == "ban":
            return _("Plaza has banned it until %(when)s UTC.", when=when)
        return _("Plaza has suspended it until %(when)s UTC.", when=when)
    if sanction.kind == "ban":
        return _("Plaza has banned it until further notice.")
    return _("Plaza has suspended it until further notice.")


def owner_ids(tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts of the business's owners, oldest membership first (platform scope)."""
    return list(dict.fromkeys(db.session.scalars(
        sa.select(Membership.user_id).where(Membership.tenant_id == tenant_id, Membership.role == Role.OWNER.value)
        .order_by(Membership.created_at))))


def tell_sanctioned(subject_kind: str, subject_id: uuid.UUID, sanction: Sanction, now: datetime) -> list[Notified]:
    """Tell the person, or the business's owners (and on a suspension or ban its upcoming
    customers), about ``sanction``. Flushes; deliveries go out after the commit."""
    type_key = "platform_warning" if sanction.kind == WARN else "platform_suspension"
    done: list[Notified] = []
    if subject_kind == "person":
        with force_locale(recipient_locale(subject_id)):
            context = {"message": _message(sanction), "reason": sanction.reason, "business": ""}
        done.append(notify(user_id=subject_id, type_key=type_key, audience="user", context=context,
                           url=platform_url("/"), source_key=f"sanction:{sanction.id}:{subject_id}", now=now))
    else:
        tenant = db.session.get(Tenant, subject_id)
        if tenant is None:
            return []
        for uid in owner_ids(tenant.id):
            with force_locale(recipient_locale(uid)):
                context = {"message": _message(sanction), "reason": sanction.reason, "business": tenant.name}
            done.append(notify(user_id=uid, type_key=type_key, audience="owner", context=context,
                               url=platform_url("/"), source_key=f"sanction:{sanction.id}:{uid}", now=now))
        if sanction.kind != WARN:
            done.extend(tell_upcoming_customers(tenant, sanction, now))
    _enqueue(done)
    return done


def tell_upcoming_customers(tenant: Tenant, sanction: Sanction, now: datetime) -> list[Notified]:
    """One ``business_unavailable`` notification per customer account with an upcoming active
    booking at ``tenant`` (their earliest one is named). Customers without an account are not
    reached here (their booking emails carry the business's contact details)."""
    rows = db.session.execute(
        sa.select(Customer.user_id, Booking.starts_at, Service.name)
        .join(Customer, sa.and_(Customer.id == Booking.customer_id, Customer.tenant_id == Booking.tenant_id))
        .join(Service, sa.and_(Service.id == Booking.service_id, Service.tenant_id == Booking.tenant_id))
        .where(Booking.tenant_id == tenant.id, Booking.starts_at > now, Booking.status.in_(ACTIVE_STATUSES),
               Customer.user_id.is_not(None))
        .order_by(Booking.starts_at)).all()
    first: dict[uuid.UUID, tuple[datetime, str]] = {}
    for user_id, starts_at, service in rows:
        first.setdefault(user_id, (starts_at, service))
    out = []
    for user_id, (starts_at, service) in first.items():
        with force_locale(recipient_locale(user_id)):
            context = {"business": tenant.name, "service": service, "when": format_local(starts_at, tenant.timezone)}
        out.append(notify(user_id=user_id, type_key="business_unavailable", audience="customer", context=context,
                          tenant_id=tenant.id, url=tenant_url(tenant, "/"),
                          source_key=f"business_unavailable:{sanction.id}:{user_id}", now=now))
    return out


def tell_reporter(user_id: uuid.UUID, excerpt: str, outcome: str, source_key: str) -> Notified | None:
    """Tell the reporter account ``user_id`` the outcome of their report about ``excerpt``
    (in-app and email, once per ``source_key``); ``None`` when the account is gone. ``outcome``
    may be a lazy string: it is put in the reporter's language here. Flushes."""
    if db.session.get(User, user_id) is None:
        return None
    with force_locale(recipient_locale(user_id)):
        message = str(outcome)
    done = notify(user_id=user_id, type_key="report_outcome", audience="user",
                  context={"preview": excerpt[:120], "message": message}, url=platform_url("/"),
                  source_key=source_key)
    _enqueue([done])
    return done


def close_person_sockets(user_id: uuid.UUID) -> None:
    """After the commit: close every open socket of the person (best effort, logged)."""
    try:
        closing.close_user(get_redis(), user_id)
    except redis.RedisError:  # the watchdog still closes them within two sweeps
        log.warning("could not close a person's sockets", exc_info=True, extra={"user": str(user_id)})


def close_business_sockets(tenant_id: uuid.UUID) -> None:
    """After the commit: close every socket opened on the business's host (best effort, logged)."""
    try:
        closing.close_tenant(get_redis(), tenant_id)
    except redis.RedisError:
        log.warning("could not close a business's sockets", exc_info=True, extra={"tenant": str(tenant_id)})
