"""Apex pages: the landing page with the directory of businesses, and business signup."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, redirect, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.blueprints.auth.security import AUTH_LIMIT, account_key, send_account_email
from app.blueprints.site import bp
from app.blueprints.site.forms import (
    BusinessSignupForm,
    currency_select_data,
    locale_region,
    zone_select_data,
)
from app.blueprints.site.media import media_url
from app.blueprints.storefront.views import home as storefront_home
from app.extensions import db, limiter
from app.identity.service import AccountError, account_for_signup, email_verification_token, handoff_token
from app.marketplace.category_names import category_name
from app.tenants.models import Tenant
from app.tenants.service import SignupError, create_tenant, validate_slug
from app.tenants.urls import external_url, host_label, tenant_url
from app.tenants.zones import UTC, default_currency
from app.web import apex_only, render_page
from app.web.effects import after_commit


@bp.get("/")
def landing() -> Response:
    """Apex landing page (hero, how it works, the businesses on Plaza); on a tenant host,
    the storefront home."""
    if g.get("tenant") is not None:
        return storefront_home()
    # Tenant is a platform-level table: the public directory needs no tenant scope.
    tenants = db.session.scalars(
        sa.select(Tenant).where(Tenant.suspended_at.is_(None)).order_by(sa.func.lower(Tenant.name)).limit(200)
    ).all()
    businesses = [{"name": t.name, "category": category_name(t.category_slug, t.category), "timezone": t.timezone, "city": t.city,
                   "logo": media_url(t.logo_key), "url": tenant_url(t), "host": host_label(t)} for t in tenants]
    return render_page("site/landing.html", businesses=businesses)


@bp.route("/signup", methods=["GET", "POST"])
@apex_only
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"], key_func=account_key)
def signup() -> Response:
    """Business signup: the business (name, subdomain, time zone, currency, category) and its
    owner account (new, or an existing one proven by its password).

    On success the owner lands logged in on the new business's dashboard, through a one-time
    handoff link on ``<slug>.<PLATFORM_DOMAIN>``. Bad input answers 422 with the form kept,
    each error beside its field, and nothing written.
    """
    form = BusinessSignupForm()
    if request.method == "GET":
        # Until the browser's script picks the visitor's zone (and its country's currency), the
        # currency follows the region of the browser's language (Accept-Language: en-GB -> GBP).
        form.timezone.data = UTC
        form.currency.data = default_currency(None, locale_region(request.accept_languages.best))
        form.timezone.render_kw = zone_select_data(defaulted=True)
        form.currency.render_kw = currency_select_data(defaulted=True)
        return render_page("site/signup.html", block="form", form=form, domain=host_label(None))
    if form.validate_on_submit():
        try:
            # A savepoint: a refused signup leaves the session usable for the 422 page.
            with db.session.begin_nested():
                validate_slug(form.slug.data)
                owner, created = account_for_signup(form.email.data, form.password.data, form.owner_name.data)
                tenant = create_tenant(name=form.business_name.data, slug=form.slug.data,
                                       timezone=form.timezone.data, currency=form.currency.data, owner=owner,
                                       category_slug=form.category.data or None,
                                       locale_by_country=True)  # issue 14: a business in Denmark speaks Danish
        except (SignupError, AccountError) as exc:
            getattr(form, exc.field).errors.append(exc.message)
        except IntegrityError:
            # Lost a race for the same subdomain or email with a concurrent signup.
            form.slug.errors.append(_("This address was just taken; pick another."))
        else:
            if created:
                link = external_url("auth.verify_email", tenant=tenant, token=email_verification_token(owner))
                after_commit(send_account_email, owner.email, "Confirm your email address for Plaza", "verify",
                             user=owner, link=link)
            token = handoff_token(owner, tenant.id)
            return redirect(external_url("auth.handoff", tenant=tenant, token=token, next="/dashboard/"))
    form.password.data = ""
    form.timezone.render_kw = zone_select_data(defaulted=False)
    form.currency.render_kw = currency_select_data(defaulted=False)
    return render_page("site/signup.html", block="form", form=form, domain=host_label(None), status=422)
