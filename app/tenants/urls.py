"""Absolute URLs built from configuration only, never from the request.

Every link Plaza puts in an email, a push, an SMS, an ``.ics``, an API answer, a
``Location`` header or a redirect to another host comes from here. The parts are:

* scheme: ``PREFERRED_URL_SCHEME`` (``http`` or ``https``);
* host: ``PLATFORM_DOMAIN`` for the platform apex, ``<slug>.<PLATFORM_DOMAIN>`` for a
  business. Custom domains (``tenant_domain``) carry no proof of ownership yet, so links
  never point at them; they are only accepted as incoming hosts;
* port: ``PUBLIC_PORT``, left out when it is the scheme's default (RFC 3986 §6.2.3).

A request's ``Host`` header is chosen by whoever sends the request; a link built from it
sends a password-reset or manage token to that host (host-header poisoning, OWASP WSTG
4.7.17). Hence nothing here reads :data:`flask.request`.

Needs an app context (reads ``current_app.config``).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.tenants.models import Tenant

#: Port a scheme uses when the URL names none (RFC 9110 §4.2.1, §4.2.2).
DEFAULT_PORTS = {"http": 80, "https": 443}


def public_scheme() -> str:
    """The configured scheme of absolute links: ``PREFERRED_URL_SCHEME`` (default ``http``)."""
    return (current_app.config.get("PREFERRED_URL_SCHEME") or "http").lower()


def public_netloc(host: str) -> str:
    """``host`` with ``:PUBLIC_PORT`` appended unless that port is the scheme's default or unset.

    ``public_netloc("bella.plaza.example")`` is ``bella.plaza.example`` with ``PUBLIC_PORT=443``
    and ``https``, ``bella.localhost:5000`` in development.
    """
    port = current_app.config.get("PUBLIC_PORT")
    if port and int(port) != DEFAULT_PORTS.get(public_scheme()):
        return f"{host}:{int(port)}"
    return host


def tenant_host(tenant: Tenant | str) -> str:
    """The host name of a business: ``<slug>.<PLATFORM_DOMAIN>`` (``tenant`` or its slug)."""
    slug = tenant if isinstance(tenant, str) else tenant.slug
    return f"{slug}.{current_app.config['PLATFORM_DOMAIN'].lower()}"


def host_label(tenant: Tenant | str | None = None) -> str:
    """The address people see and type: ``<slug>.<PLATFORM_DOMAIN>[:PUBLIC_PORT]``, or the
    apex ``PLATFORM_DOMAIN[:PUBLIC_PORT]`` for ``None`` (``tenant`` is a Tenant or a slug)."""
    if tenant is None:
        return public_netloc(current_app.config["PLATFORM_DOMAIN"].lower())
    return public_netloc(tenant_host(tenant))


def base_url(tenant: Tenant | str | None = None) -> str:
    """``<scheme>://<host_label(tenant)>`` without a trailing slash."""
    return f"{public_scheme()}://{host_label(tenant)}"


def _path(path: str) -> str:
    return path if path.startswith("/") else f"/{path}"


def platform_url(path: str = "/") -> str:
    """Absolute URL of ``path`` (``/x?y``; a leading ``/`` is added when missing) on the apex."""
    return base_url(None) + _path(path)


def tenant_url(tenant: Tenant | str, path: str = "/") -> str:
    """Absolute URL of ``path`` on the business's host ``<slug>.<PLATFORM_DOMAIN>``
    (``tenant`` is a Tenant or a slug)."""
    return base_url(tenant) + _path(path)


def external_url(endpoint: str, *, tenant: Tenant | str | None = None, **values: Any) -> str:
    """Absolute URL of a Flask ``endpoint`` (full dotted name, e.g. ``"auth.reset"``) on the
    business's host, or on the apex when ``tenant`` is ``None``.

    ``values`` fill the rule's variables; the rest become the query string (as ``url_for``).
    Works in a request, a job or a CLI command alike.

    Raises:
        werkzeug.routing.BuildError: no such endpoint, or missing values.
    """
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(host_label(tenant), url_scheme=public_scheme())
    return adapter.build(endpoint, values, force_external=True)
