"""The customer's way back to a job request: a secret manage token, stored only as its hash.

The wizard (or the API) makes the token when the request is submitted and shows or mails the
manage link once; afterwards the link alone opens the request (for a guest it is the only key).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa

from app.extensions import db
from app.leads.models import JobRequest
from app.tenants.context import platform_scope
from app.tenants.urls import platform_url

#: Path of a job request's manage page on the apex (``{id}`` and ``{token}`` filled in).
MANAGE_PATH = "/requests/{id}?t={token}"


def token_hash(token: str) -> str:
    """SHA-256 hex digest of a manage token (64 characters)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_manage_token(job_request: JobRequest) -> str:
    """Give ``job_request`` a new manage token (replacing any earlier one) and return it; only its
    hash is stored. Flushes nothing: the caller's transaction writes it."""
    token = secrets.token_urlsafe(24)
    job_request.manage_token_hash = token_hash(token)
    return token


def request_for_token(job_request_id: uuid.UUID, token: str | None) -> JobRequest | None:
    """The job request ``job_request_id`` if ``token`` is its manage token, else ``None`` (the
    comparison takes the same time whether or not it matches)."""
    if not token:
        return None
    with platform_scope("job request: customer's manage link"):
        found = db.session.scalar(sa.select(JobRequest).where(JobRequest.id == job_request_id))
    if found is None or found.manage_token_hash is None:
        return None
    return found if hmac.compare_digest(found.manage_token_hash, token_hash(token)) else None


def manage_url(job_request_id: uuid.UUID, token: str) -> str:
    """Absolute URL of the manage page on the apex (built from configuration, never the request Host)."""
    return platform_url(MANAGE_PATH.format(id=job_request_id, token=token))
