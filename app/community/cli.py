"""``flask community …``: maintenance of the community's read model."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.community.feed_index import reindex_posts


def register_community_cli(app: Flask) -> None:
    """Attach the ``community`` command group (``reindex-posts``) to ``app.cli``."""
    group = AppGroup("community", help="Posts, comments and the apex feed.")

    @group.command("reindex-posts")
    def reindex() -> None:
        """Rebuild the apex feed's copies of every business's posts (one unit of work per business)."""
        click.echo(f"{reindex_posts()} posts shown in the apex feed.")

    app.cli.add_command(group)
