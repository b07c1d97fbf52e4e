"""``flask metrics …``: rebuilding the metrics rollups by hand (after a restore, or for the bench)."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.metrics.rollups import recompute_days
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import unit_of_work


def register_metrics_cli(app: Flask) -> None:
    """Attach the ``metrics`` command group (``recompute``) to ``app.cli``."""
    group = AppGroup("metrics", help="The KPI rollups.")

    @group.command("recompute")
    @click.option("--first", "first", default=None, help="First UTC day (YYYY-MM-DD); default: --days before --last.")
    @click.option("--last", "last", default=None, help="Last UTC day (YYYY-MM-DD); default: today.")
    @click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3660))
    def recompute(first: str | None, last: str | None, days: int) -> None:
        """Rebuild every business's rollups for the days (one unit of work)."""
        end = date.fromisoformat(last) if last else utcnow().date()
        start = date.fromisoformat(first) if first else date.fromordinal(end.toordinal() - days + 1)
        with unit_of_work(), platform_scope("metrics: recompute by hand"):
            recompute_days(start, end, None)
        click.echo(f"Recomputed the metrics of {start.isoformat()} to {end.isoformat()}.")

    app.cli.add_command(group)
