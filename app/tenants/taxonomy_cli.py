"""``flask marketplace categories add|rename|move|retire|list``: the platform admin edits the category
taxonomy (:mod:`app.tenants.taxonomy`) without a deploy. Each command is one unit of work."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.tenants.taxonomy import (
    TaxonomyError,
    add_category,
    all_categories,
    move_category,
    rename_category,
    retire_category,
)
from app.uow import unit_of_work


def register_taxonomy_cli(app: Flask) -> None:
    """Attach ``categories`` to the ``marketplace`` command group of ``app.cli`` (created when
    absent, so other marketplace commands can share the group)."""
    marketplace = app.cli.commands.get("marketplace")
    if not isinstance(marketplace, click.Group):
        marketplace = AppGroup("marketplace", help="The marketplace: categories, listings.")
        app.cli.add_command(marketplace)
    categories = AppGroup("categories", help="The category taxonomy businesses choose from.")
    marketplace.add_command(categories)

    def run(edit, *args: str) -> object:
        try:
            with unit_of_work():
                return edit(*args)
        except TaxonomyError as exc:
            raise click.ClickException(exc.message) from exc

    @categories.command("list")
    def list_command() -> None:
        """Print every category: slug, name, and "retired" for those no longer offered."""
        with unit_of_work():
            rows = [(c.slug, c.name, c.active) for c in all_categories()]
        for slug, name, active in rows:
            click.echo("\t".join([slug, name] + ([] if active else ["(retired)"])))

    @categories.command("add")
    @click.argument("slug")
    @click.argument("name")
    def add_command(slug: str, name: str) -> None:
        """Add category SLUG named NAME (or bring a retired one back)."""
        run(add_category, slug, name)
        click.echo(f"added {slug.strip().lower()}")

    @categories.command("rename")
    @click.argument("slug")
    @click.argument("name")
    def rename_command(slug: str, name: str) -> None:
        """Rename category SLUG to NAME (on its businesses too)."""
        count = run(rename_category, slug, name)
        click.echo(f"renamed {slug} on {count} business(es)")

    @categories.command("retire")
    @click.argument("slug")
    def retire_command(slug: str) -> None:
        """Stop offering category SLUG (businesses in it keep it)."""
        count = run(retire_category, slug)
        click.echo(f"retired {slug}; {count} business(es) keep it")

    @categories.command("move")
    @click.argument("slug")
    @click.argument("offset", type=int)
    def move_command(slug: str, offset: int) -> None:
        """Move category SLUG OFFSET places in the list (negative: earlier)."""
        order = run(move_category, slug, offset)
        click.echo(f"moved {slug}: {', '.join(order)}")
