"""Operational endpoints on every host: liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.redis_client import get_redis

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Database and Redis answer; 503 with the failing part otherwise."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("select 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:  # report, don't crash (a 503 answer rolls the session back)
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except RedisError as exc:  # report, don't crash
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), (200 if ok else 503)
