"""HTTP surface: dashboard."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.blueprints.dashboard import views  # noqa: E402,F401
