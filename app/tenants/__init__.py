"""Tenancy: tenants, memberships, host resolution, tenant context, query guard, RLS."""
