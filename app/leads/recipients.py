"""Which language a job request's emails speak: the customer's, never the worker's last one.

A job request's customer is written to in their account's language when they have one, else the
language they wrote the request in (``job_request.locale``), else the business's default, else
English (:mod:`app.notifications.language`). The request is a platform row: read through the
platform role's read-only connection, so a tenant-role job can ask.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.identity.models import User
from app.leads.models import JobRequest
from app.notifications.language import choose, tenant_locale
from app.tenants.roles import platform_read


def job_request_locale(job_request_id: uuid.UUID | str, tenant_id: uuid.UUID | str | None = None) -> str:
    """The Babel identifier to write to the customer of job request ``job_request_id`` in (see the
    module docstring); ``tenant_id`` is the business writing (its default is the fallback)."""
    with platform_read("leads: the language of the request's customer") as conn:
        row = conn.execute(sa.select(User.locale, JobRequest.locale).select_from(JobRequest)
                           .outerjoin(User, User.id == JobRequest.user_id)
                           .where(JobRequest.id == uuid.UUID(str(job_request_id)))).first()
    account, written = row if row is not None else (None, None)
    return choose(account, written, tenant_locale(tenant_id))
