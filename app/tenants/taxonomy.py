"""The platform's category taxonomy (``marketplace_category``): which categories a business may
choose, and the platform admin's edits (add, rename, retire) without a deploy.

A business's category is the slug in ``tenant.category_slug``; ``tenant.category`` (the older
free-text column) is kept in sync as the chosen category's display name, so every page and email
that shows ``tenant.category`` shows the taxonomy's name. Renaming a category renames it on every
business in it; retiring one keeps it on the businesses that have it, but offers it no more.

Admin edits run on the platform role (no tenant in scope) and flush, never commit.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.errors import InputError
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import MarketplaceCategory, Tenant

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class TaxonomyError(InputError, ValueError):
    """A taxonomy edit that cannot be made; ``message`` is user-facing."""


def active_categories() -> list[MarketplaceCategory]:
    """The categories offered to businesses, in display order (``position``, then name)."""
    return list(db.session.scalars(sa.select(MarketplaceCategory).where(MarketplaceCategory.active)
                                   .order_by(MarketplaceCategory.position, MarketplaceCategory.name)))


def all_categories() -> list[MarketplaceCategory]:
    """Every category, retired ones too, in display order."""
    return list(db.session.scalars(sa.select(MarketplaceCategory)
                                   .order_by(MarketplaceCategory.position, MarketplaceCategory.name)))


def category_by_slug(slug: str) -> MarketplaceCategory | None:
    """The category ``slug`` (active or retired), or ``None``."""
    return db.session.get(MarketplaceCategory, slug) if slug else None


def add_category(slug: str, name: str) -> MarketplaceCategory:
    """Add category ``slug`` (lowercase letters, digits and ``-``, at most 40) named ``name`` at the
    end of the list; re-adding a retired slug brings it back with the new name. Flushes.

    Raises:
        TaxonomyError: bad slug or name, or the slug is already an active category.
    """
    slug, name = slug.strip().lower(), " ".join(name.split())
    if not SLUG_RE.match(slug):
        raise TaxonomyError("A slug is 1-40 lowercase letters, digits and hyphens, e.g. “dog-grooming”.", "slug")
    if not name or len(name) > 80:
        raise TaxonomyError("A name is 1-80 characters.", "name")
    last = db.session.scalar(sa.select(sa.func.max(MarketplaceCategory.position))) or 0
    existing = category_by_slug(slug)
    if existing is not None:
        if existing.active:
            raise TaxonomyError(f"“{slug}” is already a category.", "slug")
        existing.active, existing.position = True, last + 1
        _rename(existing, name)
        db.session.flush()
        return existing
    category = MarketplaceCategory(slug=slug, name=name, position=last + 1, active=True)
    db.session.add(category)
    db.session.flush()
    return category


def _rename(category: MarketplaceCategory, name: str) -> int:
    category.name = name
    with platform_scope("taxonomy: a category's name on its businesses"):
        result = db.session.execute(sa.update(Tenant).where(Tenant.category_slug == category.slug)
                                    .values(category=name))
    return result.rowcount or 0


def rename_category(slug: str, name: str) -> int:
    """Rename category ``slug`` to ``name``, on every business in it too; returns how many
    businesses it renamed it on. Flushes.

    Raises:
        TaxonomyError: no such category, or a bad name.
    """
    name = " ".join(name.split())
    category = category_by_slug(slug.strip().lower())
    if category is None:
        raise TaxonomyError(f"There is no category “{slug}”.", "slug")
    if not name or len(name) > 80:
        raise TaxonomyError("A name is 1-80 characters.", "name")
    count = _rename(category, name)
    db.session.flush()
    return count


def retire_category(slug: str) -> int:
    """Stop offering category ``slug``; businesses in it keep it. Returns how many businesses are
    in it. Flushes.

    Raises:
        TaxonomyError: no such category.
    """
    category = category_by_slug(slug.strip().lower())
    if category is None:
        raise TaxonomyError(f"There is no category “{slug}”.", "slug")
    category.active = False
    db.session.flush()
    with platform_scope("taxonomy: businesses in a retired category"):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)
                                 .where(Tenant.category_slug == category.slug)) or 0


def move_category(slug: str, offset: int) -> list[str]:
    """Move category ``slug`` ``offset`` places in the display order (negative: earlier), clamped
    to the ends; positions are renumbered 0..n-1 over every category, retired ones too. Returns
    the slugs in their new order. Flushes.

    Raises:
        TaxonomyError: no such category.
    """
    ordered = all_categories()
    index = next((i for i, c in enumerate(ordered) if c.slug == slug.strip().lower()), None)
    if index is None:
        raise TaxonomyError(f"There is no category “{slug}”.", "slug")
    category = ordered.pop(index)
    ordered.insert(max(0, min(len(ordered), index + offset)), category)
    for position, c in enumerate(ordered):
        c.position = position
    db.session.flush()
    return [c.slug for c in ordered]
