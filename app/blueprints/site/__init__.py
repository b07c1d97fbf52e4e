"""HTTP surface: site."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from app.blueprints.site import media, search, seo, views  # noqa: E402,F401
