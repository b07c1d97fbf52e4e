"""Plaza application factory."""

from __future__ import annotations

import time
import uuid
from logging import getLogger  # not `import logging`: the submodule app.logging binds that name here
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_settings
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.logging import configure_logging
from app.uow import transactional_views


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
    from app.inputguard import install_input_guard

    install_input_guard(app)
    register_blueprints(app)
    transactional_views(app)
    register_errorhandlers(app)
    register_cli(app)
    from app.formatting import register_filters

    register_filters(app)
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
    from flask_talisman import Talisman

    from app import models as _models  # noqa: F401 - register every table
    from app.tenants.guard import install_guard

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    from app.identity import sessions
    from app.redis_client import get_redis

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
        "img-src": "'self' data:",
        "connect-src": f"'self' ws://{domain}:* ws://*.{domain}:* wss://{domain} wss://*.{domain}",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        # Signup at the apex redirects to the new business's subdomain.
        "form-action": f"'self' http://*.{domain}:* https://*.{domain}",
        "frame-ancestors": "'none'",
    }
    from app.payments.gateway import stripe_csp_sources

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

    from app.identity.service import load_user
    from app.tenants.roles import act_as_loaded_user

    login_manager.user_loader(act_as_loaded_user(load_user))
    from app.blueprints.realtime.server import init_realtime

    init_realtime(app)


def register_request_hooks(app: Flask) -> None:
    """Resolve the tenant from Host, put it in scope, and log one JSON line per request."""
    from flask import abort, render_template

    from app.tenants.context import reset_tenant, set_tenant
    from app.tenants.errors import TenantNotFound
    from app.tenants.resolve import cached_tenant_id, resolve_host
    from app.tenants.roles import end_acting_user, hand_over_to_tenant_role
    from app.tenants.urls import host_label

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
                from app.web import problem

                return problem(404, "Not Found", f"There is no business at {request.host}.")
            return render_template("errors/unknown_tenant.html", host=request.host), 404
        if host_only:  # as before: no tenant in scope for static files and the webhook
            g.tenant = None
            return None
        g.tenant = target.tenant
        resolved = target.tenant.id if target.tenant else None
        if known != resolved:
            if "tenant_token" in g:
                reset_tenant(g.pop("tenant_token"))
            g.tenant_token = set_tenant(resolved)
            hand_over_to_tenant_role()  # the host lookup ran on the platform role
        if target.tenant is not None and target.tenant.suspended_at is not None:
            abort(404)
        return None

    @app.after_request
    def _log(resp):
        resp.headers["X-Request-Id"] = g.get("request_id", "")
        tenant = g.get("tenant")
        user = None
        try:
            if current_user and current_user.is_authenticated:
                user = str(current_user.id)
        except Exception:  # noqa: BLE001 - logging must never fail a request
            user = None
        access.info("request", extra={
            "request_id": g.get("request_id"), "method": request.method, "path": request.path,
            "status": resp.status_code, "host": request.host,
            "tenant": tenant.slug if tenant is not None else None, "user": user,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        })
        return resp

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        def is_staff() -> bool:
            """True when the logged-in user is staff of the current tenant (for the Dashboard link)."""
            from app.tenants.models import STAFF_ROLES
            from app.web import user_roles

            return bool(user_roles() & {r.value for r in STAFF_ROLES})

        return {"is_staff": is_staff, "public_host": host_label}

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
    """Register every HTTP surface."""
    from app.blueprints.account import bp as account_bp
    from app.blueprints.api import bp as api_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.billing import bp as billing_bp
    from app.blueprints.dashboard import bp as dashboard_bp
    from app.blueprints.ops import bp as ops_bp
    from app.blueprints.payments import bp as payments_bp
    from app.blueprints.site import bp as site_bp
    from app.blueprints.storefront import bp as storefront_bp
    from app.blueprints.webhooks import bp as webhooks_bp

    for bp in (ops_bp, site_bp, auth_bp, storefront_bp, dashboard_bp, account_bp, api_bp, payments_bp, billing_bp, webhooks_bp):
        app.register_blueprint(bp)
    from app.blueprints.notifications import bp as notifications_bp

    app.register_blueprint(notifications_bp)
    from app.blueprints.chat import bp as chat_bp

    app.register_blueprint(chat_bp)
    csrf.exempt(api_bp)
    csrf.exempt(webhooks_bp)


def register_errorhandlers(app: Flask) -> None:
    """HTML error pages, and problem+json under ``/api/``."""
    from flask import render_template
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from app.web import problem

    def wants_problem() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return render_template("errors/error.html", code=400, title="Form expired",
                               message="Your form expired or came from another site. Go back, reload and try again."), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 429:
            return too_many_requests(exc)
        if wants_problem():
            resp = problem(exc.code or 500, exc.name, exc.description or exc.name)
            resp.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")  # Allow on 405
            return resp
        return render_template("errors/error.html", code=exc.code, title=exc.name,
                               message=exc.description), exc.code

    def too_many_requests(exc: HTTPException):
        """429 with ``Retry-After`` (seconds until the breached window frees a place): problem+json
        with ``retry_after`` under ``/api/``, else the friendly page. A limit's own
        ``error_message`` (e.g. the booking limits') is the message."""
        current = limiter.current_limit
        retry_after = max(1, int(current.reset_at - time.time())) if current is not None else 60
        limit = getattr(exc, "limit", None)
        custom = exc.description if limit is not None and limit.error_message else None
        message = custom or "Too many attempts. Please wait a few minutes and try again."
        if wants_problem():
            resp = problem(429, "Too Many Requests", message, retry_after=retry_after)
        else:
            minutes = max(1, round(retry_after / 60))
            wait = f"You can try again in about {minutes} minute{'s' if minutes != 1 else ''}."
            resp = app.make_response((render_template("errors/error.html", code=429, title="Too many attempts",
                                                      message=f"{message} {wait}"), 429))
        resp.headers["Retry-After"] = str(retry_after)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        getLogger("plaza.error").exception("unhandled error", extra={"request_id": g.get("request_id")})
        if wants_problem():
            return problem(500, "Internal Server Error", "Something went wrong on our side; nothing was saved.")
        return render_template("errors/error.html", code=500, title="Something went wrong",
                               message="Something went wrong on our side; nothing was saved."), 500


def register_cli(app: Flask) -> None:
    """``flask seed-demo`` and friends."""
    from app.cli import register

    register(app)
