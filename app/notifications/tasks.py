"""Jobs run by the RQ worker (placeholder until the outbox relay lands)."""

from __future__ import annotations

from redis import Redis


def install_periodic_jobs(conn: Redis) -> None:
    """Schedule the periodic sweeps (outbox relay, reminders, automatic transitions)."""
    return None
