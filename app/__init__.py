"""Plaza application factory."""

from __future__ import annotations

import time
import uuid
from logging import getLogger  # not `import logging`: the submodule app.logging binds that name here
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, render_template, request
from flask_babel import get_locale, lazy_gettext
from flask_login import current_user
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from app import models as _models  # noqa: F401 - register every table
from app.blueprints.account import bp as account_bp
from app.blueprints.admin import bp as admin_bp
from app.blueprints.api import bp as api_bp
from app.blueprints.auth import bp as auth_bp
from app.blueprints.billing import bp as billing_bp
from app.blueprints.chat import bp as chat_bp
from app.blueprints.community import bp as community_bp
from app.blueprints.dashboard import bp as dashboard_bp
from app.blueprints.dispatch import bp as dispatch_bp
from app.blueprints.language import bp as language_bp
from app.blueprints.notifications import bp as notifications_bp
from app.blueprints.ops import bp as ops_bp
from app.blueprints.payments import bp as payments_bp
from app.blueprints.pwa import bp as pwa_bp
from app.blueprints.realtime.server import init_realtime
from app.blueprints.requests import bp as requests_bp
from app.blueprints.requests_manage import bp as requests_manage_bp
from app.blueprints.site import bp as site_bp
from app.blueprints.storefront import bp as storefront_bp
from app.blueprints.webhooks import bp as webhooks_bp
from app.catalog.translations import register_filters as register_content_filters
from app.cli import register as register_commands
from app.config import load_settings
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.formatting import register_filters
from app.geo.tiles import tile_origin
from app.i18n import LANGUAGE_NAMES, language_of
from app.identity import sessions
from app.identity.service import load_user
from app.inputguard import install_input_guard
from app.logging import configure_logging
from app.payments.gateway import stripe_csp_sources
from app.redis_client import get_redis
from app.storage.urls import media_origin
from app.tenants.context import reset_tenant, set_tenant
from app.tenants.errors import TenantNotFound
from app.tenants.guard import install_guard
from app.tenants.models import STAFF_ROLES
from app.tenants.resolve import cached_tenant_id, resolve_host
from app.tenants.rls import warm_proof_key
from app.tenants.roles import act_as_loaded_user, end_acting_user, hand_over_to_tenant_role
from app.tenants.urls import host_label
from app.uow import transactional_views
from app.web import problem, register_errorhandlers, user_roles
from app.web.locale import select_locale

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings from the environment, overridden by ``config``."""
    settings = load_settings()
    app = Flask(__name__)
    app.config.from_mapping(settings.flask_config())
    if config:
        app.config.update(config)
    app.extensions["plaza_settings"] = settings
    trust_proxies(app, settings.TRUSTED_PROXIES)
    configure_logging(settings.LOG_LEVEL)
    register_extensions(app)
    register_request_hooks(app)
    install_input_guard(app)
    register_blueprints(app)
    transactional_views(app)
    register_errorhandlers(app)
    register_commands(app)
    register_filters(app)
    register_content_filters(app)  # issue 14 (L): services' names in the reader's language
    with app.app_context():
        warm_proof_key()
    return app


def trust_proxies(app: Flask, hops: int) -> None:
    """Take the client's address from the last ``hops`` entries of ``X-Forwarded-For``
    (``TRUSTED_PROXIES``: the reverse proxies in front of Plaza), so per-IP rate limits and the
    session list see the client, not the proxy. Nothing else is taken from the proxy: hosts and
    links stay configuration. ``hops`` 0 leaves the header ignored (it could be forged)."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the tenant guard, security headers and login loader."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.localize_callback = str  # flash the text in the reader's language, not the lazy object
    babel.init_app(app, locale_selector=select_locale)

    with app.app_context():
        app.config.setdefault("SESSION_REDIS", get_redis())  # Flask-Session stores sessions there
    sessions.init_app(app)
    install_guard()
    production = app.extensions["plaza_settings"].is_production
    domain = app.config["PLATFORM_DOMAIN"]
    csp = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(filter(None, ["'self' data:", tile_origin(app.config.get("MAP_TILE_URL") or ""),
                                          media_origin(app.config)])),
        "connect-src": f"'self' ws://{domain}:* ws://*.{domain}:* wss://{domain} wss://*.{domain}",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        # Signup at the apex redirects to the new business's subdomain; Buy/Subscribe to Stripe Checkout.
        "form-action": f"'self' http://*.{domain}:* https://*.{domain} https://checkout.stripe.com",
        "frame-ancestors": "'none'",
    }

    with app.app_context():
        for directive, sources in stripe_csp_sources().items():
            csp[directive] = " ".join([csp[directive], *sources])
    Talisman(
        app,
        force_https=False,
        strict_transport_security=production,
        session_cookie_secure=production,
        frame_options="DENY",
        content_security_policy=csp,
        referrer_policy="strict-origin-when-cross-origin",
    )

    login_manager.user_loader(act_as_loaded_user(load_user))
    init_realtime(app)


def register_request_hooks(app: Flask) -> None:
    """Resolve the tenant from Host, put it in scope, and log one JSON line per request."""
    access = getLogger("plaza.request")

    @app.before_request
    def _resolve_tenant() -> Any:
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.endpoint in {"ops.healthz", "ops.readyz"}:  # probes reach servers by address
            g.tenant = None
            return None
        # Every other route, static files and the Stripe webhook included, only on a host
        # Plaza serves (resolve_host refuses IP literals and foreign ports): 404 otherwise.
        host_only = request.endpoint in {"static", "webhooks.stripe_webhook"}
        known = None if host_only else cached_tenant_id(request.host)
        if known is not None:
            g.tenant_token = set_tenant(known)
        try:
            target = resolve_host(request.host)
        except TenantNotFound:
            g.tenant = None
            if "tenant_token" in g:
                reset_tenant(g.pop("tenant_token"))
            if request.path.startswith("/api/"):
                return problem(404, "Not Found", f"There is no business at {request.host}.")
            return render_template("errors/unknown_tenant.html", host=request.host), 404
        if host_only:  # as before: no tenant in scope for static files and the webhook
            g.tenant = None
            return None
        g.tenant = target.tenant
        g.tenant_slug = target.tenant.slug if target.tenant else None  # read once: the access log runs after the commit
        resolved = target.tenant.id if target.tenant else None
        if known != resolved:
            if "tenant_token" in g:
                reset_tenant(g.pop("tenant_token"))
            g.tenant_token = set_tenant(resolved)
            hand_over_to_tenant_role()  # the host lookup ran on the platform role
        if target.tenant is not None and target.tenant.suspended_at is not None:
            if request.path.startswith("/api/"):
                abort(404)
            return render_template("errors/business_unavailable.html", business=target.tenant.name), 404
        return None

    @app.after_request
    def _log(resp):
        resp.headers["X-Request-Id"] = g.get("request_id", "")
        user = None
        try:
            if current_user and current_user.is_authenticated:
                user = str(current_user.id)
        except Exception:  # noqa: BLE001 - logging must never fail a request
            user = None
        access.info("request", extra={
            "request_id": g.get("request_id"), "method": request.method, "path": request.path,
            "status": resp.status_code, "host": request.host,
            "tenant": g.get("tenant_slug"), "user": user,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        })
        return resp

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        def is_staff() -> bool:
            """True when the logged-in user is staff of the current tenant (for the Dashboard link)."""
            return bool(user_roles() & {r.value for r in STAFF_ROLES})

        return {"is_staff": is_staff, "public_host": host_label, "html_lang": str(get_locale()).replace("_", "-"),
                "current_language": language_of(str(get_locale())), "language_names": LANGUAGE_NAMES}

    app.teardown_appcontext(lambda exc: end_acting_user())

    @app.teardown_request
    def _clear_tenant(exc: BaseException | None) -> None:
        token = g.pop("tenant_token", None)
        if token is not None:
            try:
                reset_tenant(token)
            except ValueError:
                pass


def register_blueprints(app: Flask) -> None:
    """Register every HTTP surface; the API and the Stripe webhook are exempt from CSRF (tokens
    and signatures instead)."""
    for bp in (ops_bp, site_bp, auth_bp, storefront_bp, dashboard_bp, account_bp, api_bp, payments_bp, billing_bp,
               webhooks_bp, notifications_bp, chat_bp, community_bp, admin_bp, requests_manage_bp, dispatch_bp,
               language_bp):
        app.register_blueprint(bp)
    app.register_blueprint(requests_bp)  # issue 13 (U): the job-request wizard on the apex
    app.register_blueprint(pwa_bp)  # issue 14 (P): manifests, the service worker, offline pages
    csrf.exempt(api_bp)
    csrf.exempt(webhooks_bp)
