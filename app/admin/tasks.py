"""The console's worker: lifts time-limited suspensions and bans once they end.

:func:`periodic_lift` runs every ``PLAZA_SWEEP_INTERVAL`` seconds (:data:`app.jobs.periodic.PERIODIC_JOBS`),
one unit of work on the platform role; safe to run twice at once (a lifted row is skipped).
"""

from __future__ import annotations

from app.admin.sanctions import lift_expired
from app.jobs.runner import run_on_platform


def periodic_lift() -> int:
    """Lift every ended sanction and reinstate its subject; the number of subjects reinstated."""
    return run_on_platform(lift_expired)
