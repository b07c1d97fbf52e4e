"""Errors of the tenancy layer."""


class TenantScopeError(RuntimeError):
    """A tenant-owned row was queried or written with no tenant (or the wrong one) in scope."""


class TenantNotFound(LookupError):
    """The Host names no known tenant."""
