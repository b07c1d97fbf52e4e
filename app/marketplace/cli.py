"""``flask marketplace …``: maintenance of the marketplace read model."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.marketplace.tasks import reindex_all


def register_marketplace_cli(app: Flask) -> None:
    """Attach the ``marketplace`` command group (``reindex``) to ``app.cli``."""
    group = AppGroup("marketplace", help="The apex marketplace's read model.")

    @group.command("reindex")
    def reindex() -> None:
        """Rebuild every business's marketplace listing (one unit of work per business)."""
        click.echo(f"Rebuilt {reindex_all()} marketplace listings.")

    app.cli.add_command(group)
