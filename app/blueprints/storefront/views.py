"""Tenant storefront: browse services and book."""

from __future__ import annotations

from flask import g

from app.web import render_page


def home():
    """Storefront home: the business and its services (placeholder)."""
    return render_page("storefront/home.html", tenant=g.tenant)
