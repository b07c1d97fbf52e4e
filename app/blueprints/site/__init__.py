"""HTTP surface: site."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from app.blueprints.site import category_labels, media, search, seo, views  # noqa: E402,F401
