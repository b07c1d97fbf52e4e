"""HTTP surface: auth."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import invite, views  # noqa: E402,F401
