"""The platform console at ``/admin`` on the apex: platform admins only (everyone else gets 404).

Each section is a view module of its own, imported below with one line; ``access`` holds the
decorator every view uses.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.blueprints.admin import (  # noqa: E402,F401
    formats,
    view_as,
    views,
    views_access,
    views_audit,
    views_broadcasts,
    views_credits,
    views_directory,
    views_disputes,
    views_fulfilment,
    views_metrics,
    views_moderation,
    views_questions,
    views_settings,
    views_verification,
)
