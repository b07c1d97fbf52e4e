"""Login, logout, password reset, email verification (on every host)."""

from __future__ import annotations

from flask import redirect

from app.blueprints.auth import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in (placeholder)."""
    return "login"


@bp.post("/logout")
def logout():
    """Log out (placeholder)."""
    return redirect("/")
