"""HTTP surface: api."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.blueprints.api import job_request_read, job_requests, leads, marketplace, reviews, views  # noqa: E402,F401
