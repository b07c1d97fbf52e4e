"""What the community's partials need, as template globals, so any page can include them
without passing anything: ``storefront/_profile_posts.html``, ``storefront/_profile_actions.html``
(message, favourite, report on a business's profile), ``site/_favourite_button.html`` (a
business slug in ``slug``), ``site/_recently_viewed.html`` and ``community/_my_inquiries.html``.

:func:`note_profile_view` is called by the profile page (the storefront home) to remember a
signed-in visitor's view.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, url_for
from flask_login import current_user

from app.blueprints.community import bp
from app.community import moderation, people, posts
from app.community.models import CustomerFavourite
from app.extensions import db
from app.tenants.models import Tenant


@dataclass(frozen=True)
class FavouriteState:
    """The heart of one business for the visitor: ``on`` (a favourite), ``url`` to POST to, and
    ``login_url`` for anonymous visitors (``None`` when signed in)."""

    on: bool
    url: str
    login_url: str | None


def favourite_state(slug: str) -> FavouriteState:
    """The visitor's favourite state of business ``slug``: on a business's host only that
    business; on the apex any (one query per request for all of the visitor's favourites)."""
    tenant = g.get("tenant")
    url = url_for("community.toggle_favourite_here") if tenant is not None else url_for(
        "community.toggle_favourite", slug=slug)
    if not current_user.is_authenticated:
        return FavouriteState(False, url, url_for("auth.login"))
    if tenant is not None:
        on = tenant.slug == slug and people.is_favourite(current_user.id, tenant.id)
        return FavouriteState(on, url, None)
    if "favourite_slugs" not in g:
        g.favourite_slugs = set(db.session.scalars(
            sa.select(Tenant.slug).join(CustomerFavourite, CustomerFavourite.business_id == Tenant.id)
            .where(CustomerFavourite.user_id == current_user.id)))
    return FavouriteState(slug in g.favourite_slugs, url, None)


def profile_posts(limit: int = posts.PROFILE_POSTS) -> list[posts.Post]:
    """The latest published posts of the business on this host (empty on the apex)."""
    return posts.published_posts(limit=limit) if g.get("tenant") is not None else []


def recent_businesses() -> list[people.BusinessCard]:
    """The signed-in visitor's recently viewed businesses (apex only; empty otherwise)."""
    if g.get("tenant") is not None or not current_user.is_authenticated:
        return []
    return people.recently_viewed(current_user.id)


def my_inquiries() -> list[people.MyInquiry]:
    """The signed-in visitor's questions to businesses (apex only; empty otherwise)."""
    if g.get("tenant") is not None or not current_user.is_authenticated:
        return []
    return people.my_inquiries(current_user.id)


@bp.app_template_global("report_url")
def report_url(target_type: str, target_id: object) -> str:
    """The report form of a piece of content (kinds of :mod:`app.community.moderation`)."""
    return url_for("community.report", target_type=target_type, target_id=str(target_id))


def note_profile_view() -> None:
    """Remember that the signed-in visitor looked at this host's business (their recently viewed)."""
    tenant = g.get("tenant")
    if tenant is not None and current_user.is_authenticated:
        people.note_view(current_user.id, tenant.id)


@bp.app_context_processor
def community_globals() -> dict[str, object]:
    """Template globals of the community partials."""
    return {"favourite_state": favourite_state, "profile_posts": profile_posts,
            "recent_businesses": recent_businesses, "my_inquiries": my_inquiries,
            "report_kinds": moderation.REGISTRY}
