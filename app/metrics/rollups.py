"""Keeping the rollups: recompute days from the bookings with one SQL statement per table.

:func:`recompute_days` rebuilds the rows of ``[first, last]`` (UTC days) for the business in
scope or, inside ``platform_scope``, for every business at once (the nightly job and the bench):
it deletes the days' rows and inserts them again from ``booking`` (and ``working_hours`` for
staff availability), so running it twice gives the same rows. Flushes; the unit of work commits.

:func:`refresh_platform_days` then sums the days' business rows into the platform-wide rollups
(``metrics_platform_day``, ``metrics_city_day``) the console reads; it runs in platform scope,
right after a recompute for every business, or as its own job after one business's recompute.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from app.extensions import db

#: The days' bookings (``b``) and, for each of their customers, the start of the first booking
#: not cancelled with that business (``firsts``): one aggregate and hash joins, no per-row subquery.
BUSINESS_SQL = """
with b as (
    select tenant_id, customer_id, status, source, currency, price_amount, starts_at,
           (starts_at at time zone 'UTC')::date as day
      from booking
     where starts_at >= (cast(:first as date)::timestamp at time zone 'UTC')
       and starts_at < ((cast(:last as date) + 1)::timestamp at time zone 'UTC')
       and (cast(:tenant as uuid) is null or tenant_id = cast(:tenant as uuid))
), firsts as (
    select p.tenant_id, p.customer_id, min(p.starts_at) as first_at
      from booking p
     where p.status <> 'cancelled'
       and p.starts_at < ((cast(:last as date) + 1)::timestamp at time zone 'UTC')
       and (cast(:tenant as uuid) is null or p.tenant_id = cast(:tenant as uuid))
       and (p.tenant_id, p.customer_id) in (select tenant_id, customer_id from b)
     group by p.tenant_id, p.customer_id
)
insert into metrics_business_day (tenant_id, day, currency, bookings, online, cancelled, no_shows, completed,
                                  gross_amount, customers, new_customers, returning_customers, updated_at)
select b.tenant_id, b.day, b.currency,
       count(*), count(*) filter (where b.source = 'online'), count(*) filter (where b.status = 'cancelled'),
       count(*) filter (where b.status = 'no_show'), count(*) filter (where b.status = 'completed'),
       coalesce(sum(b.price_amount) filter (where b.status <> 'cancelled'), 0),
       count(distinct b.customer_id),
       count(distinct b.customer_id) filter (
           where b.status <> 'cancelled' and f.first_at >= (b.day::timestamp at time zone 'UTC')),
       count(distinct b.customer_id) filter (
           where b.status <> 'cancelled' and f.first_at < (b.day::timestamp at time zone 'UTC')),
       now()
  from b left join firsts f on f.tenant_id = b.tenant_id and f.customer_id = b.customer_id
 group by b.tenant_id, b.day, b.currency
"""

#: Every staff member of the business(es) for every day, with the day's bookings not cancelled
#: (``bk``) and the weekday's working minutes (``wh``), joined by hash, not per day.
STAFF_SQL = """
with bk as (
    select tenant_id, staff_id, (starts_at at time zone 'UTC')::date as day, count(*) as bookings,
           sum(extract(epoch from (ends_at - starts_at)) / 60)::int as minutes
      from booking
     where status <> 'cancelled'
       and starts_at >= (cast(:first as date)::timestamp at time zone 'UTC')
       and starts_at < ((cast(:last as date) + 1)::timestamp at time zone 'UTC')
       and (cast(:tenant as uuid) is null or tenant_id = cast(:tenant as uuid))
     group by 1, 2, 3
), wh as (
    select tenant_id, staff_id, weekday, sum(extract(epoch from (end_time - start_time)) / 60)::int as minutes
      from working_hours
     where (cast(:tenant as uuid) is null or tenant_id = cast(:tenant as uuid))
     group by 1, 2, 3
)
insert into metrics_staff_day (tenant_id, day, staff_id, bookings, booked_minutes, available_minutes)
select s.tenant_id, d.day::date, s.id, coalesce(bk.bookings, 0), coalesce(bk.minutes, 0), coalesce(wh.minutes, 0)
  from staff_member s
 cross join generate_series(cast(:first as date), cast(:last as date), interval '1 day') as d(day)
  left join bk on bk.tenant_id = s.tenant_id and bk.staff_id = s.id and bk.day = d.day::date
  left join wh on wh.tenant_id = s.tenant_id and wh.staff_id = s.id
                and wh.weekday = extract(isodow from d.day)::int - 1
 where (cast(:tenant as uuid) is null or s.tenant_id = cast(:tenant as uuid))
   and (s.active or bk.bookings > 0)
"""


#: The days' business rows summed per day and currency.
PLATFORM_SQL = """
insert into metrics_platform_day (day, currency, bookings, online, cancelled, no_shows, completed, gross_amount,
                                  customers, new_customers, returning_customers, updated_at)
select day, currency, sum(bookings), sum(online), sum(cancelled), sum(no_shows), sum(completed), sum(gross_amount),
       sum(customers), sum(new_customers), sum(returning_customers), now()
  from metrics_business_day
 where day between cast(:first as date) and cast(:last as date)
 group by day, currency
"""

#: The days' bookings per business city.
CITY_SQL = """
insert into metrics_city_day (day, country, city, bookings)
select m.day, t.country, t.city, sum(m.bookings)
  from metrics_business_day m join tenant t on t.id = m.tenant_id
 where m.day between cast(:first as date) and cast(:last as date) and t.city <> ''
 group by m.day, t.country, t.city
"""

#: Advisory lock class of a platform-day refresh (with the day's ordinal): refreshes of one day
#: run one after another, so two never insert the same rows.
PLATFORM_LOCK = 7_130_001


def refresh_platform_days(first: date, last: date) -> None:
    """Rebuild the platform-wide rollups of UTC days ``first``..``last`` from the business rows
    (call in ``platform_scope``; takes a transaction-scoped advisory lock per day). Flushes.

    Raises:
        ValueError: ``last`` before ``first``.
    """
    if last < first:
        raise ValueError("last day before first day")
    db.session.flush()
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        db.session.execute(sa.text("select pg_advisory_xact_lock(:k, :d)"), {"k": PLATFORM_LOCK, "d": ordinal})
    params = {"first": first, "last": last}
    for table, sql in (("metrics_platform_day", PLATFORM_SQL), ("metrics_city_day", CITY_SQL)):
        db.session.execute(sa.text(f"delete from {table} where day between cast(:first as date) "  # noqa: S608
                                   "and cast(:last as date)"), params)
        db.session.execute(sa.text(sql), params)
    db.session.flush()


def recompute_days(first: date, last: date, tenant_id: uuid.UUID | None) -> None:
    """Rebuild both rollups for UTC days ``first``..``last`` (inclusive) of business ``tenant_id``
    (``None``: every business, and then the platform-wide rollups too; the caller must be in
    ``platform_scope``). Flushes.

    Raises:
        ValueError: ``last`` before ``first``.
    """
    if last < first:
        raise ValueError("last day before first day")
    params = {"first": first, "last": last, "tenant": tenant_id}
    where = "day between cast(:first as date) and cast(:last as date)" \
            " and (cast(:tenant as uuid) is null or tenant_id = cast(:tenant as uuid))"
    db.session.flush()
    for table, sql in (("metrics_business_day", BUSINESS_SQL), ("metrics_staff_day", STAFF_SQL)):
        db.session.execute(sa.text(f"delete from {table} where {where}"), params)  # noqa: S608 - fixed names
        db.session.execute(sa.text(sql), params)
    db.session.flush()
    if tenant_id is None:
        refresh_platform_days(first, last)
