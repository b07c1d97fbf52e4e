"""The photos of a lead's job request, for the provider's lead page.

The photos are storage keys on the job request (a platform-only table), so they are read through
:func:`app.tenants.roles.platform_read` (the business host's tenant role cannot read
``job_request``), and shown through short-lived signed URLs of the private storage.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.leads.models import JobRequest, Lead
from app.storage.urls import url_for_key
from app.tenants.roles import platform_read

#: Most photos shown on a lead page.
MAX_PHOTOS = 12


def photo_urls(lead: Lead) -> list[str]:
    """Signed URLs of the job request's photos (keys, or ``{"key": …}`` objects) (at most :data:`MAX_PHOTOS`; empty when none)."""
    with platform_read("lead page: the job request's photos") as conn:
        keys = conn.execute(sa.select(JobRequest.photos).where(JobRequest.id == lead.job_request_id)).scalar()
    found = [k.get("key") if isinstance(k, dict) else k for k in (keys or [])]
    return [url_for_key(k, private=True) for k in found[:MAX_PHOTOS] if isinstance(k, str) and k]
