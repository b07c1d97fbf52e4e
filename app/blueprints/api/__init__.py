"""HTTP surface: api."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.blueprints.api import (  # noqa: E402,F401
    job_request_read,  # noqa: E402,F401
    marketplace,
    reviews,
    views,
)
