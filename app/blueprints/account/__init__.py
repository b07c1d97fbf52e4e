"""HTTP surface: account."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from app.blueprints.account import labels, views, views_disputes  # noqa: E402,F401
