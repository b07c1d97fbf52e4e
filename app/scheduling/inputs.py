"""Everything availability needs about a set of staff, read in ONE statement as plain columns.

Working hours, date overrides, time off and the blocked ranges of slot-holding bookings come
back as rows of one ``UNION ALL`` (no ORM objects), busy instants already as integer
microseconds since the epoch (``extract(epoch …)`` is exact in PostgreSQL), ready for
:func:`app.scheduling.grid.grid_slots`. The tenant is filtered explicitly (a text statement gets
no ORM tenant criteria); row-level security applies as to every statement. Bookings are
matched by plain comparisons, not ``tstzrange(…) && tstzrange(…)``: the range operator is not
leakproof, so under row-level security PostgreSQL must run the policy's function on every
booking of the staff before it (measured: 5x the buffer reads), while ``<`` / ``>`` on
timestamps run first and leave the policy a few hundred rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.scheduling.busy import SLOT_HOLDING_STATUSES
from app.scheduling.grid import StaffPlan

#: The one statement (bind parameters: tid, ids, lo, hi, since, until, statuses).
PLAN_SQL = sa.text("""
select 0, staff_id, weekday, null::date, start_time, end_time, null::bigint, null::bigint
  from working_hours where tenant_id = :tid and staff_id = any(:ids)
union all
select 1, staff_id, null, on_date, start_time, end_time, null, null
  from date_override where tenant_id = :tid and staff_id = any(:ids) and on_date between :lo and :hi
union all
select 2, staff_id, null, null, null, null, (extract(epoch from starts_at) * 1000000)::bigint,
       (extract(epoch from ends_at) * 1000000)::bigint
  from time_off where tenant_id = :tid and staff_id = any(:ids) and starts_at < :until and ends_at > :since
union all
select 2, staff_id, null, null, null, null, (extract(epoch from blocked_from) * 1000000)::bigint,
       (extract(epoch from blocked_until) * 1000000)::bigint
  from booking where tenant_id = :tid and staff_id = any(:ids) and status = any(:statuses)
   and blocked_from < :until and blocked_until > :since
""")


def load_plans(staff_durations: dict[uuid.UUID, int | None], since: datetime, until: datetime, *,
               tenant_id: uuid.UUID) -> list[StaffPlan]:
    """One :class:`~app.scheduling.grid.StaffPlan` per staff member of ``staff_durations`` (id ->
    duration override in minutes or ``None``), in that order: weekly hours, the date overrides
    from the day before ``since`` to the day after ``until``, and the busy intervals (time off and
    slot-holding bookings) overlapping ``[since, until)`` (tz-aware UTC). One SQL statement."""
    ids = list(staff_durations)
    if not ids:
        return []
    plans = {sid: StaffPlan(staff_id=str(sid), duration_minutes=staff_durations[sid]) for sid in ids}
    lo, hi = (since - timedelta(days=1)).date(), (until + timedelta(days=1)).date()
    rows = db.session.execute(PLAN_SQL, {"tid": tenant_id, "ids": ids, "lo": lo, "hi": hi, "since": since,
                                          "until": until, "statuses": list(SLOT_HOLDING_STATUSES)})
    for kind, sid, weekday, on_date, start_t, end_t, busy_from, busy_until in rows:
        plan = plans[sid]
        if kind == 2:
            plan.busy.append((busy_from, busy_until))
        elif kind == 0:
            plan.weekly.setdefault(weekday, []).append((start_t, end_t))
        else:
            day = plan.overrides.setdefault(on_date, [])
            if start_t is not None and end_t is not None:
                day.append((start_t, end_t))
    return [plans[sid] for sid in ids]
