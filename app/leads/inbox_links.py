"""The customer's emailed way back to their job request: a signed, expiring link.

The manage token is stored only as its hash, so mails sent after submission (a provider claimed
the request, quoted, wrote in the chat) cannot repeat it. They carry instead
``/requests/<id>/from-email?s=<signature>`` on the apex: an itsdangerous signature of the request
id, which the customer side (part C) checks with :func:`request_id_from_email_signature`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.tenants.urls import platform_url

#: itsdangerous salt of the customer's emailed link.
EMAIL_LINK_SALT = "plaza-job-request-email"
#: Path of the apex page the emailed link opens (part C serves it).
EMAIL_LINK_PATH = "/requests/{id}/from-email?s={signature}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_LINK_SALT)


def email_link(job_request_id: uuid.UUID) -> str:
    """Absolute apex URL ``/requests/<id>/from-email?s=<signature>`` that opens the job request
    for whoever holds the email (built from configuration, never the request's Host)."""
    signature = _serializer().dumps(str(job_request_id))
    return platform_url(EMAIL_LINK_PATH.format(id=job_request_id, signature=signature))


def request_id_from_email_signature(signature: str, max_age_days: int = 30) -> uuid.UUID | None:
    """The job request id an emailed link's ``signature`` names, or ``None`` when it is forged,
    malformed or older than ``max_age_days``."""
    if not signature or len(signature) > 512:
        return None
    try:
        value = _serializer().loads(signature, max_age=int(timedelta(days=max_age_days).total_seconds()))
        return uuid.UUID(str(value))
    except (BadSignature, ValueError, TypeError):
        return None
