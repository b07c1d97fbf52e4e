"""Errors of the tenancy layer."""


class TenantScopeError(RuntimeError):
    """A tenant-owned row was queried or written with no tenant (or the wrong one) in scope."""


class TenantNotFound(LookupError):
    """The Host names no known tenant."""


class HostRefused(TenantNotFound):
    """The Host is not one Plaza serves whatever the tenants: an IP literal, a port other
    than the public one, or not a host name at all. A :class:`TenantNotFound`, so every
    caller that answers "no business here" refuses it the same way."""


class PlatformRoleRequired(TenantScopeError):
    """Platform-wide work was asked for inside a transaction of the tenant database role.

    The tenant role's policies have no bypass, so ``platform_scope`` cannot widen its view:
    platform work runs in its own transaction on the platform role (a job, an apex request,
    or :func:`app.tenants.roles.platform_read`).
    """
