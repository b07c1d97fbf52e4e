"""HTTP surface: notifications (center, preferences, unsubscribe, push, the sent-to-customer log)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.blueprints.notifications import views  # noqa: E402,F401
