"""Read models of the CRM: the customer list with search and paging, a customer's bookings,
visits, no-shows and spend, notes and tags. The business in scope filters every query.

Spend is the sum of the booking prices (``booking.price_amount``, minor units) of completed
visits, per currency: what the customer was charged for what they received, whether they paid
online or at the venue (the payments ledger only knows online payments).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus, Customer
from app.catalog.models import Service, StaffMember
from app.customers.models import CustomerNote, CustomerTag
from app.extensions import db
from app.timeutil import utcnow

#: Statuses of a booking that count as a visit once its start has passed.
VISIT_STATUSES = (BookingStatus.COMPLETED.value, BookingStatus.CONFIRMED.value)
#: Orders of the customer list.
SORTS = ("last_visit", "name", "newest")
#: Customers per page of the list.
PER_PAGE = 25


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customer list: the record, its last visit (UTC, ``None`` before the
    first), its number of bookings and its tags."""

    customer: Customer
    last_visit: datetime | None
    bookings: int
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BookingLine:
    """A booking of the customer with its service's and staff member's names."""

    booking: Booking
    service_name: str
    staff_name: str


@dataclass(frozen=True)
class CustomerSummary:
    """What the customer page shows: ``upcoming`` bookings (start in the future, soonest first),
    ``past`` ones (newest first), ``visits`` (past completed or confirmed), ``no_shows``,
    ``cancelled``, ``spend`` (``[(minor units, ISO 4217 currency)]`` of completed visits),
    ``last_visit`` (UTC or ``None``), notes (newest first) and tags (alphabetical)."""

    upcoming: list[BookingLine]
    past: list[BookingLine]
    visits: int
    no_shows: int
    cancelled: int
    spend: list[tuple[int, str]]
    last_visit: datetime | None
    notes: list[CustomerNote]
    tags: list[CustomerTag]


def escape_like(text: str) -> str:
    """``text`` with ``\\``, ``%`` and ``_`` escaped for a ``LIKE … ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(q: str) -> sa.ColumnElement[bool] | None:
    """SQL condition on :class:`Customer` for the search text ``q``: a part of the name or the
    email (case-insensitive), or of the phone number when ``q`` has at least three digits
    (spaces and punctuation ignored); ``None`` for an empty search."""
    text = " ".join(q.split()).lower()[:100]
    if not text:
        return None
    pattern = f"%{escape_like(text)}%"
    clauses = [sa.func.lower(Customer.name).like(pattern, escape="\\"),
               Customer.email.like(pattern, escape="\\")]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        clauses.append(sa.func.coalesce(Customer.phone, "").like(f"%{digits}%"))
    return sa.or_(*clauses)


def last_visit_column(now: datetime | None = None) -> sa.ScalarSelect:
    """Correlated subquery: the start (UTC) of the customer's latest past visit."""
    return (sa.select(sa.func.max(Booking.starts_at))
            .where(Booking.customer_id == Customer.id, Booking.tenant_id == Customer.tenant_id,
                   Booking.status.in_(VISIT_STATUSES), Booking.starts_at <= (now or utcnow()))
            .correlate(Customer).scalar_subquery())


def list_customers(q: str = "", *, sort: str = "last_visit", page: int = 1, per_page: int = PER_PAGE,
                   include_erased: bool = False, now: datetime | None = None) -> tuple[list[CustomerRow], bool]:
    """The business's customers matching ``q`` (see :func:`search_condition`) in ``sort`` order
    (``last_visit``: latest visit first, never-visited last; ``name``; ``newest``: latest created
    first), page ``page`` (from 1) of ``per_page``; and whether a further page exists. Erased
    records are left out unless ``include_erased``. An unknown ``sort`` is ``last_visit``."""
    last_visit = last_visit_column(now).label("last_visit")
    count = (sa.select(sa.func.count()).where(Booking.customer_id == Customer.id,
                                              Booking.tenant_id == Customer.tenant_id)
             .correlate(Customer).scalar_subquery().label("bookings"))
    query = sa.select(Customer, last_visit, count)
    condition = search_condition(q)
    if condition is not None:
        query = query.where(condition)
    if not include_erased:
        query = query.where(Customer.erased_at.is_(None))
    order = {"name": [sa.func.lower(Customer.name), Customer.id],
             "newest": [Customer.created_at.desc(), Customer.id]}.get(
        sort, [sa.desc(last_visit).nulls_last(), sa.func.lower(Customer.name), Customer.id])
    page = max(1, page)
    rows = db.session.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page + 1)).all()
    shown = rows[:per_page]
    tags = tags_of([c.id for c, _, _ in shown])
    return ([CustomerRow(c, lv, n or 0, [t.tag for t in tags.get(c.id, [])]) for c, lv, n in shown],
            len(rows) > per_page)


def tags_of(customer_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CustomerTag]]:
    """The tags of each of ``customer_ids`` (alphabetical, case-insensitively)."""
    if not customer_ids:
        return {}
    out: dict[uuid.UUID, list[CustomerTag]] = {}
    for tag in db.session.scalars(sa.select(CustomerTag).where(CustomerTag.customer_id.in_(customer_ids))
                                  .order_by(sa.func.lower(CustomerTag.tag))):
        out.setdefault(tag.customer_id, []).append(tag)
    return out


def notes_of(customer_id: uuid.UUID) -> list[CustomerNote]:
    """The customer's notes, newest first."""
    return list(db.session.scalars(sa.select(CustomerNote).where(CustomerNote.customer_id == customer_id)
                                   .order_by(CustomerNote.created_at.desc(), CustomerNote.id)))


def bookings_of(customer_id: uuid.UUID) -> list[BookingLine]:
    """Every booking of the customer with service and staff names, latest start first."""
    rows = db.session.execute(
        sa.select(Booking, Service.name, StaffMember.name)
        .join(Service, sa.and_(Service.tenant_id == Booking.tenant_id, Service.id == Booking.service_id))
        .join(StaffMember, sa.and_(StaffMember.tenant_id == Booking.tenant_id, StaffMember.id == Booking.staff_id))
        .where(Booking.customer_id == customer_id)
        .order_by(Booking.starts_at.desc(), Booking.id)).all()
    return [BookingLine(b, service, staff) for b, service, staff in rows]


def customer_summary(customer: Customer, now: datetime | None = None) -> CustomerSummary:
    """Everything the customer page shows about ``customer`` (see :class:`CustomerSummary`)."""
    now = now or utcnow()
    lines = bookings_of(customer.id)
    upcoming = sorted((x for x in lines if x.booking.starts_at > now), key=lambda x: x.booking.starts_at)
    past = [x for x in lines if x.booking.starts_at <= now]
    visits = [x.booking for x in past if x.booking.status in VISIT_STATUSES]
    spend: dict[str, int] = {}
    for line in lines:
        if line.booking.status == BookingStatus.COMPLETED.value:
            spend[line.booking.currency] = spend.get(line.booking.currency, 0) + line.booking.price_amount
    return CustomerSummary(
        upcoming=upcoming, past=past, visits=len(visits),
        no_shows=sum(1 for x in lines if x.booking.status == BookingStatus.NO_SHOW.value),
        cancelled=sum(1 for x in lines if x.booking.status == BookingStatus.CANCELLED.value),
        spend=sorted((amount, currency) for currency, amount in spend.items()),
        last_visit=max((b.starts_at for b in visits), default=None),
        notes=notes_of(customer.id), tags=tags_of([customer.id]).get(customer.id, []))


def find_by_email(email: str) -> Customer | None:
    """The business's customer record with this (normalised) email, or ``None``."""
    return db.session.scalar(sa.select(Customer).where(Customer.email == email.strip().lower()))
