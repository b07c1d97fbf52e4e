"""Staff dashboard on the tenant host."""

from __future__ import annotations

from app.blueprints.dashboard import bp


@bp.get("/dashboard/")
def home():
    """Dashboard home (placeholder)."""
    return "dashboard"
