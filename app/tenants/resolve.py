"""Resolve the tenant from a request's Host header, and refuse hosts Plaza does not serve.

Links are never built from the Host (see :mod:`app.tenants.urls`); refusing foreign hosts
outright also keeps caches, logs and pages free of attacker-chosen names.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.errors import HostRefused, TenantNotFound
from app.tenants.models import Tenant, TenantDomain

RESERVED_SLUGS = frozenset({
    "www", "api", "app", "admin", "mail", "smtp", "static", "assets", "cdn", "help", "support",
    "status", "blog", "docs", "dashboard", "account", "accounts", "login", "signup", "billing",
    "plaza", "root", "test", "dev", "staging", "webhooks", "ws", "socket", "marketplace", "auth",
})


@dataclass(frozen=True)
class HostTarget:
    """What a host name means: the platform apex (``tenant is None``) or one tenant."""

    tenant: Tenant | None


#: A DNS host name (letters, digits, hyphens, dots; IDNs arrive as ``xn--`` A-labels).
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


def split_host(host: str) -> tuple[str, int | None]:
    """``(name, port)`` of a Host header value, the name lower-cased, ``port`` ``None`` when
    absent (``"Bella.localhost:5000"`` -> ``("bella.localhost", 5000)``; an IPv6 literal keeps
    its brackets). Syntax of RFC 9110 §7.2 / RFC 3986 §3.2.2.

    Raises:
        HostRefused: empty, a port that is not 1-65535, or an unbracketed IPv6 address.
    """
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise HostRefused(host)
        name, rest = host[: end + 1], host[end + 1:]
        if rest and not rest.startswith(":"):
            raise HostRefused(host)
        port = rest[1:] if rest else None
    else:
        name, sep, port = host.rpartition(":")
        if not sep:
            name, port = host, None
        elif ":" in name:
            raise HostRefused(host)
    if not name:
        raise HostRefused(host)
    if port is None:
        return name, None
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise HostRefused(host)
    return name, int(port)


def served_ports() -> frozenset[int]:
    """Ports a Host header may name: ``PUBLIC_PORT`` and, when set, the web server's own
    ``PORT`` (a Host without a port, the scheme's default, is always accepted)."""
    cfg = current_app.config
    return frozenset(int(p) for p in (cfg.get("PUBLIC_PORT"), cfg.get("PORT")) if p)


def check_host(host: str, platform_domain: str | None = None) -> str:
    """The host name of ``host`` when Plaza may serve it at all, before any tenant lookup.

    Refused: an IP literal (``127.0.0.1``, ``[::1]``; unless it is ``PLATFORM_DOMAIN``
    itself), a port other than :func:`served_ports`, anything that is not a DNS name.
    ``localhost`` and ``*.localhost`` are ordinary names (the development apex).

    Raises:
        HostRefused: as above.
    """
    name, port = split_host(host)
    if port is not None and port not in served_ports():
        raise HostRefused(host)
    apex = (platform_domain or current_app.config["PLATFORM_DOMAIN"]).lower()
    if name == apex:
        return name
    if _is_ip(name) or not _HOST_NAME.fullmatch(name):
        raise HostRefused(host)
    return name


def resolve_host(host: str, platform_domain: str | None = None) -> HostTarget:
    """Map a Host header to the apex or a tenant.

    ``PLATFORM_DOMAIN`` (default ``platform_domain``) and ``www.`` of it are the apex;
    ``<slug>.<platform_domain>`` is a tenant by slug; any other name is looked up in the
    custom-domain table. The host must first pass :func:`check_host`.

    Raises:
        HostRefused: an IP literal, a port Plaza is not served on, or not a host name.
        TenantNotFound: a subdomain or custom domain that names no tenant.
    """
    platform_domain = (platform_domain or current_app.config["PLATFORM_DOMAIN"]).lower()
    name = check_host(host, platform_domain)
    if name in {platform_domain, f"www.{platform_domain}"}:
        return HostTarget(None)
    cached = _cached(name)
    if cached is not None:
        tenant = db.session.get(Tenant, cached)
        if tenant is not None:
            return HostTarget(tenant)
        _HOST_CACHE.pop(name, None)
    suffix = f".{platform_domain}"
    if name.endswith(suffix):
        slug = name[: -len(suffix)]
        # The tenant role reads only the business in scope (a stale cache entry may have put
        # one there): which business has a slug is asked on the platform role.
        with platform_scope("resolve a subdomain"):
            tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    else:
        # tenant_domain has forced row-level security: which business owns a custom domain is
        # a platform-wide question, asked on the platform role before any tenant is in scope.
        with platform_scope("resolve a custom domain"):
            tenant = db.session.scalar(
                sa.select(Tenant).join(TenantDomain, TenantDomain.tenant_id == Tenant.id)
                .where(TenantDomain.domain == name)
            )
    if tenant is None:
        raise TenantNotFound(name)
    _HOST_CACHE[name] = (tenant.id, time.monotonic() + HOST_CACHE_SECONDS)
    return HostTarget(tenant)


#: host name -> (tenant id, expiry on the monotonic clock). Only the mapping is cached (a
#: slug never changes owner); the Tenant row itself is loaded fresh on every request.
_HOST_CACHE: dict[str, tuple[uuid.UUID, float]] = {}
HOST_CACHE_SECONDS = 60.0


def cached_tenant_id(host: str) -> uuid.UUID | None:
    """The tenant id a host name resolved to recently in this process, or ``None``.

    Lets the request hook put the tenant in scope before its first query, so the
    transaction's RLS settings are issued once. ``None`` too for a host :func:`check_host`
    refuses.
    """
    try:
        name = check_host(host)
    except HostRefused:
        return None
    return _cached(name)


def _cached(name: str) -> uuid.UUID | None:
    hit = _HOST_CACHE.get(name)
    if hit is None or hit[1] < time.monotonic():
        return None
    return hit[0]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
