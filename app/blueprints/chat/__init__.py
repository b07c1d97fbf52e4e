"""HTTP surface: chat pages (customer on the apex and by manage link, staff on the tenant host)."""

from flask import Blueprint

bp = Blueprint("chat", __name__)

from app.blueprints.chat import inbox, views  # noqa: E402,F401
