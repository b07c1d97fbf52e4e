"""HTTP surface: storefront."""

from flask import Blueprint

bp = Blueprint("storefront", __name__)

from app.blueprints.storefront import manage, profile, reviews, views  # noqa: E402,F401
