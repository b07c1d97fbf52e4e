"""Jobs of the booking domain: the periodic automatic transitions.

Enqueued by dotted path from the periodic table (:mod:`app.jobs.periodic`); each run is one
unit of work (:func:`app.jobs.runner.run_on_platform`).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.booking.transitions import run_automatic_transitions
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.timeutil import utcnow

#: Advisory lock key of the transitions job ("PLAZA" in ASCII).
TRANSITIONS_LOCK = 0x504C415A41


def periodic_transitions() -> dict[str, int]:
    """Periodic job: expire pending bookings older than 48 h, release unconfirmed guest holds
    (``awaiting_email``), and complete confirmed ones 7 days past their end
    (:func:`app.booking.transitions.run_automatic_transitions`). Returns counts by move
    (``expired``, ``completed``, ``released``; ``skipped`` = 1 when another worker holds the lock).

    Guarded by a transaction-level PostgreSQL advisory lock so two workers never move the
    same bookings at once; the one that does not get the lock does nothing.
    """

    def transitions() -> dict[str, int]:
        if not db.session.scalar(sa.text("select pg_try_advisory_xact_lock(:k)"), {"k": TRANSITIONS_LOCK}):
            return {"expired": 0, "completed": 0, "released": 0, "skipped": 1}
        return run_automatic_transitions(utcnow())

    return run_on_platform(transitions)
