"""Catalog: services, staff members, working hours, date overrides, time off."""
