"""Demo bookings for the demo businesses (``flask seed-demo``, run by ``make run``): a lived-in
calendar around today, regenerated on each run without duplicating anything.

For every staff member and every day from :data:`PAST_DAYS` days ago to :data:`FUTURE_DAYS`
days ahead, a deterministic plan (seeded by business, staff member and date) places a few
bookings inside the working hours, one after the other with their buffers, so they never
overlap. A day that already holds any booking of that staff member (from an earlier run or
from real use) is left alone; an empty day is filled. So a run tomorrow adds tomorrow's new
last day, keeps yesterday's history and never violates the exclusion constraint.

Past bookings end completed, no-show or cancelled; today's and future ones are confirmed,
pending or cancelled. Customers are keyed by email (:data:`CUSTOMERS`), so the same regulars
come back and build histories; the first ones carry staff notes and tags. A few upcoming bookings get a chat thread. Rows are written
directly, with their booking events, and without outbox events: seeding sends no email.
Everything flushes; the CLI command's unit of work commits.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.booking.models import Booking, BookingEvent, BookingStatus, Customer
from app.catalog.availability_version import bump_version
from app.catalog.models import Service, ServiceStaff, StaffMember, WorkingHours
from app.chat.models import BOOKING as BOOKING_SUBJECT
from app.chat.models import CUSTOMER, STAFF, Conversation, Message, Participant
from app.customers.service import add_note, add_tag
from app.extensions import db
from app.tenants.models import Membership, Role, Tenant
from app.timeutil import utcnow, zone

#: Days of history and of the coming weeks that the demo keeps filled.
PAST_DAYS = 14
FUTURE_DAYS = 14
#: At most this many bookings per staff member and day.
MAX_PER_DAY = 4
#: Demo customers of each country: (name, email, phone in E.164). The first ones are regulars.
CUSTOMERS: dict[str, list[tuple[str, str, str]]] = {
    "DK": [
        ("Freja Holm", "freja.holm@demo.plaza.test", "+4520112233"),
        ("Emil Skov", "emil.skov@demo.plaza.test", "+4520223344"),
        ("Clara Møller", "clara.moller@demo.plaza.test", "+4520334455"),
        ("Noah Kristensen", "noah.kristensen@demo.plaza.test", "+4520445566"),
        ("Alma Thomsen", "alma.thomsen@demo.plaza.test", "+4520556677"),
        ("Oscar Poulsen", "oscar.poulsen@demo.plaza.test", "+4520667788"),
        ("Ella Johansen", "ella.johansen@demo.plaza.test", "+4520778899"),
        ("William Berg", "william.berg@demo.plaza.test", "+4520889900"),
        ("Agnes Dahl", "agnes.dahl@demo.plaza.test", "+4520990011"),
        ("Victor Lund", "victor.lund@demo.plaza.test", "+4521001122"),
    ],
    "US": [
        ("Maria Lopez", "maria.lopez@demo.plaza.test", "+12125550101"),
        ("James Carter", "james.carter@demo.plaza.test", "+12125550102"),
        ("Aisha Khan", "aisha.khan@demo.plaza.test", "+12125550103"),
        ("Tom O'Brien", "tom.obrien@demo.plaza.test", "+12125550104"),
        ("Grace Kim", "grace.kim@demo.plaza.test", "+12125550105"),
        ("Luis Martinez", "luis.martinez@demo.plaza.test", "+12125550106"),
        ("Hannah Schultz", "hannah.schultz@demo.plaza.test", "+12125550107"),
        ("David Chen", "david.chen@demo.plaza.test", "+12125550108"),
    ],
}
#: Staff-only notes and tags on the first demo customers (the regulars), added when they are created.
PROFILES: list[tuple[list[str], list[str]]] = [
    (["Prefers a quiet chair by the window; likes her coffee black.", "Sensitive scalp: use the mild shampoo."],
     ["regular", "VIP"]),
    (["Usually books by phone on Monday mornings."], ["regular"]),
    (["Patch test done 3 months ago: no reaction."], ["colour"]),
    (["Missed an appointment in spring; call the day before."], ["call first"]),
]
#: Notes customers leave now and then.
NOTES = ["First time here.", "Running 5 minutes late maybe.", "Please use the side entrance.",
         "Allergic to some hair dyes.", "Same as last time, please.", "Parking on the street?"]
#: Chat threads on upcoming bookings: (customer's message, staff reply).
THREADS = [
    ("Hi! Could I bring my daughter along? She'll just wait.", "Of course, see you both then!"),
    ("Is there somewhere to park nearby?", "Yes, there is free street parking right outside."),
    ("Can I pay by card on the day?", "Sure, we take all major cards."),
    ("I might be 10 minutes late, is that OK?", "No problem, we'll keep your slot. Drive safely!"),
]
#: Why demo bookings were cancelled, and by whom.
CANCELS = [("customer", "Something came up at work."), ("customer", "Feeling unwell."),
           ("staff", "Staff member ill; rebooked by phone.")]


@dataclass(frozen=True)
class _Offer:
    service_id: uuid.UUID
    minutes: int
    before: int
    after: int
    price: int
    currency: str


def _round_up(at: datetime, minutes: int = 15) -> datetime:
    extra = (-(at.minute % minutes)) % minutes
    return (at + timedelta(minutes=extra)).replace(second=0, microsecond=0)


def _status(rng: random.Random, ends: datetime, now: datetime) -> tuple[str, str | None, str | None]:
    """(status, cancelled_by, cancel_reason) for a booking ending at ``ends``."""
    roll = rng.random()
    if roll < 0.12:
        by, reason = rng.choice(CANCELS)
        return BookingStatus.CANCELLED.value, by, reason
    if ends <= now:
        return (BookingStatus.NO_SHOW.value if roll < 0.22 else BookingStatus.COMPLETED.value), None, None
    return (BookingStatus.PENDING.value if roll < 0.27 else BookingStatus.CONFIRMED.value), None, None


def _customers(country: str) -> list[Customer]:
    """The demo customers of the tenant in scope, created when missing (keyed by email)."""
    people = CUSTOMERS.get(country) or CUSTOMERS["DK"]
    found = {c.email: c for c in db.session.scalars(sa.select(Customer).where(
        Customer.email.in_([email for _, email, _ in people])))}
    created = []
    for name, email, phone in people:
        if email not in found:
            found[email] = Customer(name=name, email=email, phone=phone)
            db.session.add(found[email])
            created.append(email)
    db.session.flush()
    ordered = [found[email] for _, email, _ in people]
    for customer, (notes, tags) in zip(ordered, PROFILES, strict=False):
        if customer.email in created:  # only once: a later run leaves what staff changed alone
            for body in notes:
                add_note(customer, body, author_user_id=None, author_name="Demo")
            for tag in tags:
                add_tag(customer, tag)
    return ordered


def _offers(staff_id: uuid.UUID) -> list[_Offer]:
    rows = db.session.execute(sa.select(Service, ServiceStaff).join(ServiceStaff, ServiceStaff.service_id == Service.id)
                              .where(ServiceStaff.staff_id == staff_id, Service.active.is_(True))
                              .order_by(Service.position, Service.name)).all()
    return [_Offer(s.id, link.duration_minutes or s.duration_minutes, s.buffer_before_minutes,
                   s.buffer_after_minutes, s.price_amount if link.price_amount is None else link.price_amount,
                   s.currency) for s, link in rows]


def _hours(staff_id: uuid.UUID) -> dict[int, list[tuple[time, time]]]:
    found: dict[int, list[tuple[time, time]]] = {}
    for row in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id == staff_id)):
        found.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    return {day: sorted(ranges) for day, ranges in found.items()}


def _busy_days(staff_id: uuid.UUID, first: datetime, last: datetime, tz_name: str) -> set[date]:
    tz = zone(tz_name)
    starts = db.session.scalars(sa.select(Booking.starts_at).where(
        Booking.staff_id == staff_id, Booking.starts_at >= first, Booking.starts_at < last))
    return {s.astimezone(tz).date() for s in starts}


def plan_day(seed: str, day: date, tz_name: str, ranges: Sequence[tuple[time, time]],
             offers: Sequence[_Offer]) -> list[tuple[datetime, _Offer]]:
    """The demo plan of one staff member's ``day``: ``(start, offer)`` pairs in order, each
    inside one of the local working ``ranges`` with its buffers, none overlapping the next.
    Deterministic for a given ``seed`` (business, staff member) and day."""
    rng = random.Random(f"{seed}:{day.isoformat()}")
    tz = zone(tz_name)
    planned: list[tuple[datetime, _Offer]] = []
    for opens, closes in ranges:
        cursor = datetime.combine(day, opens, tzinfo=tz)
        end = datetime.combine(day, closes, tzinfo=tz)
        while len(planned) < MAX_PER_DAY:
            if rng.random() < 0.45:
                cursor += timedelta(minutes=rng.choice((30, 45, 60)))
            fitting = [o for o in offers
                       if cursor + timedelta(minutes=o.before + o.minutes + o.after) <= end]
            if not fitting:
                break
            offer = rng.choice(fitting)
            start = cursor + timedelta(minutes=offer.before)
            planned.append((start, offer))
            cursor = _round_up(start + timedelta(minutes=offer.minutes + offer.after))
    return planned


def _add_thread(booking: Booking, customer: Customer, staff_user_id: uuid.UUID | None, staff_name: str,
                rng: random.Random, now: datetime) -> None:
    asked = min(now - timedelta(minutes=30), booking.created_at + timedelta(hours=1))
    conv = Conversation(subject_type=BOOKING_SUBJECT, subject_id=booking.id, created_at=asked)
    db.session.add(conv)
    db.session.flush()
    asker = Participant(conversation_id=conv.id, role=CUSTOMER, customer_id=customer.id, joined_at=asked)
    db.session.add(asker)
    question, answer = rng.choice(THREADS)
    messages = [(asker, CUSTOMER, customer.name, question, asked)]
    if staff_user_id is not None:
        replier = Participant(conversation_id=conv.id, role=STAFF, user_id=staff_user_id,
                              joined_at=asked + timedelta(minutes=20))
        db.session.add(replier)
        messages.append((replier, STAFF, staff_name, answer, asked + timedelta(minutes=20)))
    db.session.flush()
    for author, role, name, body, at in messages:
        msg = Message(conversation_id=conv.id, author_participant_id=author.id, author_role=role,
                      author_name=name, body=body, created_at=at)
        db.session.add(msg)
        db.session.flush()
        author.last_delivered_seq = author.last_read_seq = msg.seq


def fill_demo_bookings(tenant: Tenant, now: datetime | None = None, *, past_days: int = PAST_DAYS,
                       future_days: int = FUTURE_DAYS, threads: bool = True) -> int:
    """Fill the empty days of every active staff member of ``tenant`` (the tenant in scope) from
    ``past_days`` days ago to ``future_days`` days ahead with the demo plan, with a chat thread on
    some upcoming bookings when ``threads``; flushes. Returns how many bookings were added (0 when
    every day was already filled)."""
    now = now or utcnow()
    tz = zone(tenant.timezone)
    today = now.astimezone(tz).date()
    first_day, last_day = today - timedelta(days=past_days), today + timedelta(days=future_days)
    customers = _customers(tenant.country or "DK")
    staff_users = {m.staff_member_id: m.user_id for m in db.session.scalars(sa.select(Membership).where(
        Membership.staff_member_id.is_not(None), Membership.role != Role.CUSTOMER.value))}
    owner_id = db.session.scalar(sa.select(Membership.user_id).where(Membership.role == Role.OWNER.value))
    added = 0
    staff_rows = db.session.scalars(sa.select(StaffMember).where(StaffMember.active.is_(True))
                                    .order_by(StaffMember.position)).all()
    for index, staff in enumerate(staff_rows):
        offers, hours = _offers(staff.id), _hours(staff.id)
        if not offers:
            continue
        busy = _busy_days(staff.id, datetime.combine(first_day, time(), tzinfo=tz),
                          datetime.combine(last_day + timedelta(days=1), time(), tzinfo=tz), tenant.timezone)
        day = first_day
        while day <= last_day:
            if day not in busy:
                added += _fill_day(tenant, staff, index, day, hours.get(day.weekday(), []), offers, customers,
                                   staff_users.get(staff.id, owner_id), now, threads)
            day += timedelta(days=1)
    if added:
        db.session.flush()
        bump_version(tenant.id)
    return added


def _fill_day(tenant: Tenant, staff: StaffMember, index: int, day: date, ranges: list[tuple[time, time]],
              offers: list[_Offer], customers: list[Customer], staff_user_id: uuid.UUID | None,
              now: datetime, threads: bool) -> int:
    seed = f"{tenant.slug}:{index}"
    rng = random.Random(f"{seed}:{day.isoformat()}:who")
    regulars = customers[:4] * 3 + customers
    count = 0
    for start, offer in plan_day(seed, day, tenant.timezone, ranges, offers):
        ends = start + timedelta(minutes=offer.minutes)
        status, cancelled_by, reason = _status(rng, ends, now)
        customer = rng.choice(regulars)
        booked_at = min(now - timedelta(minutes=5), start - timedelta(days=rng.randint(1, 10)))
        if status == BookingStatus.PENDING.value:
            booked_at = now - timedelta(minutes=rng.randint(5, 600))  # still waiting, not yet expired
        booking = Booking(
            id=uuid.uuid4(), service_id=offer.service_id, staff_id=staff.id, customer_id=customer.id, status=status,
            starts_at=start, ends_at=ends, blocked_from=start - timedelta(minutes=offer.before),
            blocked_until=ends + timedelta(minutes=offer.after), price_amount=offer.price, currency=offer.currency,
            customer_timezone=tenant.timezone, notes=rng.choice(NOTES) if rng.random() < 0.2 else "",
            cancelled_by=cancelled_by, cancel_reason=reason, created_at=booked_at, updated_at=booked_at)
        db.session.add(booking)
        first = BookingStatus.PENDING.value if status == BookingStatus.PENDING.value else BookingStatus.CONFIRMED.value
        db.session.add(BookingEvent(booking_id=booking.id, kind="created", from_status=None, to_status=first,
                                    actor="customer", reason="", at=booked_at))
        if status != first:
            action = {"completed": "complete", "no_show": "no_show", "cancelled": "cancel"}[status]
            by = cancelled_by or "staff"
            at = min(now, ends if status != BookingStatus.CANCELLED.value else booked_at + timedelta(hours=3))
            db.session.add(BookingEvent(booking_id=booking.id, kind=action, from_status=first, to_status=status,
                                        actor=by, actor_user_id=staff_user_id if by == "staff" else None,
                                        reason=reason or "", at=at))
        if threads and status == BookingStatus.CONFIRMED.value and start > now and rng.random() < 0.2:
            _add_thread(booking, customer, staff_user_id, staff.name, rng, now)
        count += 1
    return count


# --------------------------------------------------------------------------- issue 15 (A): Danish texts

#: Bella's own texts in Danish (issue 14: a business writes its content in more than one
#: language): the public description and each service's name and description, keyed by the
#: service's name in the default language. A Danish reader of the storefront sees these.
BELLA_DANISH: dict[str, object] = {
    "description": "Et afslappet studie midt i København: klip, farve og styling ved tre frisører, "
                   "der elsker deres fag.",
    "services": {
        "Women's haircut": ("Dameklip", "Klip, vask og føn."),
        "Men's haircut": ("Herreklip", "Klassisk eller moderne klip."),
        "Children's haircut": ("Børneklip", "Under 12 år."),
        "Full colour": ("Helfarvning", "Farve fra rod til spids inkl. toner."),
        "Highlights": ("Striber", "Folie, halvt hoved."),
        "Beard trim": ("Skægtrim", "Formning med varmt håndklæde."),
    },
}


def add_danish_texts(tenant: Tenant, texts: dict[str, object]) -> int:
    """Give business ``tenant`` (in scope) the Danish ``texts`` (shaped like :data:`BELLA_DANISH`)
    where it has no Danish text yet, so an owner's own edits are never overwritten; idempotent.
    Returns how many rows (the business and its services) got Danish. Flushes."""
    added = 0
    if "da" not in (tenant.translations or {}) and texts.get("description"):
        tenant.translations = {**(tenant.translations or {}), "da": {"description": str(texts["description"])}}
        added += 1
    names = texts.get("services") or {}
    for service in db.session.scalars(sa.select(Service)):
        danish = names.get(service.name) if isinstance(names, dict) else None
        if danish and "da" not in (service.translations or {}):
            service.translations = {**(service.translations or {}), "da": {"name": danish[0], "description": danish[1]}}
            added += 1
    db.session.flush()
    return added
