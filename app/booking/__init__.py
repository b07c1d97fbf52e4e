"""Booking: customers, bookings, their lifecycle and events."""
