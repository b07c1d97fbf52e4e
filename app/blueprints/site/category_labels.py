"""The ``category_label`` template global: a marketplace category's name in the reader's language
(:func:`app.marketplace.category_names.category_name`), for every page that shows one."""

from __future__ import annotations

from app.blueprints.site import bp
from app.marketplace.category_names import category_name


@bp.app_template_global("category_label")
def category_label(slug: str | None, stored: str | None) -> str:
    """``{{ category_label(tenant.category_slug, tenant.category) }}``: the name to show."""
    return category_name(slug, stored)
