"""Customer account on the apex: my bookings across every business."""

from __future__ import annotations

from app.blueprints.account import bp


@bp.get("/account/bookings")
def bookings():
    """My bookings (placeholder)."""
    return "my bookings"
