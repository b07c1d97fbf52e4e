"""A new review: the business's owners and managers hear of it (type ``review_received``),
with a link to the dashboard's reviews page where they reply."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from app.extensions import db
from app.notifications.audiences import leader_user_ids
from app.notifications.dispatch import Notified, notify
from app.reviews.service import CREATED_EVENT
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url

#: The outbox event of a new review (written by :func:`app.reviews.service.create_review`).
REVIEW_CREATED = CREATED_EVENT


def notify_new_review(event_id: str, kind: str, payload: Mapping[str, object],
                      tenant_id: uuid.UUID) -> list[Notified]:
    """``review.created`` (payload ``review_id``, ``rating`` 1–5, ``service``, ``author``): one
    ``review_received`` notification per owner and manager of the business in scope, linking to
    ``/dashboard/reviews``; once per review (the source key). Flushes."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return []
    context = {"business": tenant.name, "rating": str(payload.get("rating") or ""),
               "service": str(payload.get("service") or "a visit"), "author": str(payload.get("author") or "A customer")}
    url = tenant_url(tenant, f"/dashboard/reviews#review-{payload.get('review_id')}")
    return [notify(user_id=uid, type_key="review_received", audience="staff", tenant_id=tenant_id, context=context,
                   url=url, source_key=f"review:{payload.get('review_id')}:{uid}")
            for uid in leader_user_ids()]
