"""HTTP surface: site."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from app.blueprints.site import media, search, views  # noqa: E402,F401
