"""Resolve the tenant from a request's Host header."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.tenants.errors import TenantNotFound
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


def host_name(host: str) -> str:
    """Lower-cased host without port (``Bella.localhost:5000`` -> ``bella.localhost``)."""
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def resolve_host(host: str, platform_domain: str) -> HostTarget:
    """Map a Host header to the apex or a tenant.

    ``<slug>.<platform_domain>`` is a tenant by slug; the bare platform domain, an IP
    literal or ``www.`` is the apex; anything else is looked up in the custom-domain table.

    Raises:
        TenantNotFound: a subdomain or custom domain that names no tenant.
    """
    name = host_name(host)
    platform_domain = platform_domain.lower()
    if name in {platform_domain, f"www.{platform_domain}"} or _is_ip(name):
        return HostTarget(None)
    cached = cached_tenant_id(name)
    if cached is not None:
        tenant = db.session.get(Tenant, cached)
        if tenant is not None:
            return HostTarget(tenant)
        _HOST_CACHE.pop(name, None)
    suffix = f".{platform_domain}"
    if name.endswith(suffix):
        slug = name[: -len(suffix)]
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    else:
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
    transaction's RLS settings are issued once.
    """
    hit = _HOST_CACHE.get(host_name(host))
    if hit is None or hit[1] < time.monotonic():
        return None
    return hit[0]


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def tenant_url(tenant: Tenant, path: str = "/", *, scheme: str, platform_domain: str, port: int | None) -> str:
    """Absolute URL of ``path`` on the tenant's subdomain (port omitted when 80/443/None)."""
    netloc = f"{tenant.slug}.{platform_domain}"
    if port and port not in (80, 443):
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}"
