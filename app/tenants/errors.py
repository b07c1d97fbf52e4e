"""Errors of the tenancy layer."""


class TenantScopeError(RuntimeError):
    """A tenant-owned row was queried or written with no tenant (or the wrong one) in scope."""


class TenantNotFound(LookupError):
    """The Host names no known tenant."""


class HostRefused(TenantNotFound):
    """The Host is not one Plaza serves whatever the tenants: an IP literal, a port other
    than the public one, or not a host name at all. A :class:`TenantNotFound`, so every
    caller that answers "no business here" refuses it the same way."""
