"""Which language a message speaks: the recipient's, never the sender's request.

A person with an account reads ``user_account.locale`` (their choice); a guest customer the
language they booked in (``booking.locale``, else their customer record's ``locale``); else the
business's ``tenant.default_locale``; else English. Every sender renders a message's subject,
bodies, dates and money inside :func:`speaking` (``flask_babel.force_locale``), so a worker
handling messages for several recipients in one app context never keeps a previous one's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask_babel import force_locale

from app.booking.models import Booking, Customer
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.tenants.models import Tenant


def choose(*candidates: str | None) -> str:
    """The first of ``candidates`` (Babel identifiers or tags, most specific first) that Plaza
    speaks, as a Babel identifier; :data:`~app.i18n.DEFAULT_LANGUAGE` when none does."""
    for candidate in candidates:
        locale = supported_locale(candidate)
        if locale:
            return locale
    return DEFAULT_LANGUAGE


def tenant_locale(tenant_id: uuid.UUID | str | None) -> str | None:
    """The default language of the business ``tenant_id`` (``None``: no such business)."""
    if tenant_id is None:
        return None
    tenant = db.session.get(Tenant, uuid.UUID(str(tenant_id)))
    return tenant.default_locale if tenant is not None else None


def user_locale(user: User | uuid.UUID | str | None, tenant_id: uuid.UUID | str | None = None) -> str:
    """The language to write to an account holder in: their own choice, else the business's
    default (``tenant_id``: the business the message is about), else English."""
    chosen = user.locale if isinstance(user, User) else account_locale(user)
    return choose(chosen, tenant_locale(tenant_id))


def account_locale(user_id: uuid.UUID | str | None) -> str | None:
    """The language account ``user_id`` chose (``None``: no choice, no such account or no id)."""
    if user_id is None:
        return None
    return db.session.scalar(sa.select(User.locale).where(User.id == uuid.UUID(str(user_id))))


def booking_customer_locale(booking_id: uuid.UUID | str) -> str:
    """The language of the customer of a booking (tenant in scope): their account's choice when
    the record is linked to one, else the language they booked in, else their record's, else the
    business's default, else English."""
    booking_id = uuid.UUID(str(booking_id))
    return booking_customer_locales([booking_id]).get(booking_id, DEFAULT_LANGUAGE)


def booking_customer_locales(booking_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """:func:`booking_customer_locale` of many bookings (tenant in scope) in one query: booking
    id -> Babel identifier; unknown bookings absent."""
    ids = list(set(booking_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Booking.id, Booking.locale, Customer.locale, User.locale, Tenant.default_locale)
        .join(Customer, Customer.id == Booking.customer_id)
        .join(Tenant, Tenant.id == Booking.tenant_id)
        .outerjoin(User, User.id == Customer.user_id)
        .where(Booking.id.in_(ids)))
    return {booking_id: choose(chosen, booked, recorded, default)
            for booking_id, booked, recorded, chosen, default in rows}


def customer_locale(customer_id: uuid.UUID | str) -> str:
    """The language of a business's customer record (tenant in scope): their account's choice,
    else the language they last booked in, else the business's default, else English."""
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == uuid.UUID(str(customer_id))))
    if customer is None:
        return DEFAULT_LANGUAGE
    return choose(account_locale(customer.user_id), customer.locale, tenant_locale(customer.tenant_id))


def notice_locale(user: User | uuid.UUID | str, tenant_id: uuid.UUID | str | None, audience: str,
                  subject_key: str) -> str:
    """The language of a notification to an account holder: their own choice; for a customer's
    notice about a booking (``subject_key`` ``booking:<id>``) without one, the language they
    booked in (tenant ``tenant_id`` in scope); else the business's default; else English."""
    chosen = user.locale if isinstance(user, User) else account_locale(user)
    if chosen is None and audience == "customer" and tenant_id is not None and subject_key.startswith("booking:"):
        try:
            return booking_customer_locale(uuid.UUID(subject_key.removeprefix("booking:")))
        except ValueError:
            pass
    return choose(chosen, tenant_locale(tenant_id))


@contextmanager
def speaking(locale: str | None) -> Iterator[str]:
    """Render everything inside in ``locale`` (any tag; unsupported -> English): gettext, the
    money/date filters and :func:`app.catalog.translations.localized`. Yields the identifier used."""
    chosen = choose(locale)
    with force_locale(chosen):
        yield chosen


def email_locale(email: str, tenant_id: uuid.UUID | str | None = None) -> str:
    """The language to write to the account whose login is ``email`` (any case) about business
    ``tenant_id``: their own choice, else the business's default, else English (no such account:
    the business's default)."""
    chosen = db.session.scalar(sa.select(User.locale).where(sa.func.lower(User.email) == email.strip().lower()))
    return choose(chosen, tenant_locale(tenant_id))
