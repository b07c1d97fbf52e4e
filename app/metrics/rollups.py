"""Keeping the rollups: recompute days from the bookings with one SQL statement per table.

:func:`recompute_days` rebuilds the rows of ``[first, last]`` (UTC days) for the business in
scope or, inside ``platform_scope``, for every business at once (the nightly job and the bench):
it deletes the days' rows and inserts them again from ``booking`` (and ``working_hours`` for
staff availability), so running it twice gives the same rows. Flushes; the unit of work commits.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from app.extensions import db

BUSINESS_SQL = """
insert into metrics_business_day (tenant_id, day, currency, bookings, online, cancelled, no_shows, completed,
                                  gross_amount, customers, new_customers, returning_customers, updated_at)
select b.tenant_id, (b.starts_at at time zone 'UTC')::date as day, b.currency,
       count(*), count(*) filter (where b.source = 'online'), count(*) filter (where b.status = 'cancelled'), count(*) filter (where b.status = 'no_show'),
       count(*) filter (where b.status = 'completed'),
       coalesce(sum(b.price_amount) filter (where b.status <> 'cancelled'), 0),
       count(distinct b.customer_id),
       count(distinct b.customer_id) filter (where b.status <> 'cancelled' and not exists (
           select 1 from booking p where p.tenant_id = b.tenant_id and p.customer_id = b.customer_id
              and p.status <> 'cancelled' and p.starts_at < date_trunc('day', b.starts_at at time zone 'UTC')
                                                               at time zone 'UTC')),
       count(distinct b.customer_id) filter (where b.status <> 'cancelled' and exists (
           select 1 from booking p where p.tenant_id = b.tenant_id and p.customer_id = b.customer_id
              and p.status <> 'cancelled' and p.starts_at < date_trunc('day', b.starts_at at time zone 'UTC')
                                                               at time zone 'UTC')),
       now()
  from booking b
 where b.starts_at >= (cast(:first as date)::timestamp at time zone 'UTC')
   and b.starts_at < ((cast(:last as date) + 1)::timestamp at time zone 'UTC')
   and (cast(:tenant as uuid) is null or b.tenant_id = cast(:tenant as uuid))
 group by b.tenant_id, 2, b.currency
"""

STAFF_SQL = """
insert into metrics_staff_day (tenant_id, day, staff_id, bookings, booked_minutes, available_minutes)
select s.tenant_id, d.day::date, s.id,
       coalesce(bk.bookings, 0), coalesce(bk.minutes, 0),
       coalesce((select sum(extract(epoch from (w.end_time - w.start_time)) / 60)::int from working_hours w
                  where w.tenant_id = s.tenant_id and w.staff_id = s.id
                    and w.weekday = extract(isodow from d.day)::int - 1), 0)
  from staff_member s
 cross join generate_series(cast(:first as date), cast(:last as date), interval '1 day') as d(day)
  left join lateral (
       select count(*) as bookings, sum(extract(epoch from (b.ends_at - b.starts_at)) / 60)::int as minutes
         from booking b
        where b.tenant_id = s.tenant_id and b.staff_id = s.id and b.status <> 'cancelled'
          and b.starts_at >= (d.day::date::timestamp at time zone 'UTC')
          and b.starts_at < ((d.day::date + 1)::timestamp at time zone 'UTC')) bk on true
 where (cast(:tenant as uuid) is null or s.tenant_id = cast(:tenant as uuid))
   and (s.active or bk.bookings > 0)
"""


def recompute_days(first: date, last: date, tenant_id: uuid.UUID | None) -> None:
    """Rebuild both rollups for UTC days ``first``..``last`` (inclusive) of business ``tenant_id``
    (``None``: every business; the caller must be in ``platform_scope``). Flushes.

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
