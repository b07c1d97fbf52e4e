"""HTTP surface: site."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from app.blueprints.site import views  # noqa: E402,F401
