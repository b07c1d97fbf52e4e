"""Disputes and refund requests: both sides hear of every step (``dispute.changed`` outbox
events written by :mod:`app.disputes.service`), in their notification center and by the
channels their preferences enable. The customer's link goes to their case page on the platform,
the business's to the case in its dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.booking.models import Booking, Customer
from app.extensions import db
from app.formatting import format_local
from app.notifications.audiences import leader_user_ids
from app.notifications.dispatch import Notified, notify
from app.notifications.language import speaking, user_locale
from app.tenants.models import Tenant
from app.tenants.urls import platform_url, tenant_url

#: The outbox event of every step of a case (:data:`app.disputes.service.CHANGED_EVENT`).
DISPUTE_CHANGED = "dispute.changed"

#: Step -> notification type.
STEP_TYPES: dict[str, str] = {"opened": "dispute_opened", "reminder": "dispute_deadline_soon",
                              "answered": "dispute_escalated", "declined": "dispute_escalated",
                              "escalated": "dispute_escalated", "accepted": "dispute_decided",
                              "decided": "dispute_decided"}
#: Step -> how the business's side is described in an escalation (read in the recipient's language).
ANSWERED = {"answered": _l("answered"), "declined": _l("declined the request"),
            "escalated": _l("did not answer in time")}
#: Case kind -> its name in a sentence.
CASE_NAMES = {"dispute": _l("dispute"), "refund_request": _l("refund request")}
#: Case status -> its name in a sentence.
STATUS_NAMES = {"open": _l("open"), "awaiting_business": _l("awaiting the business"),
                "escalated": _l("with the platform"), "decided": _l("decided"), "closed": _l("closed")}


def _deadline(payload: Mapping[str, object], tenant: Tenant) -> str:
    raw = payload.get("due")
    if not raw:
        return _("the deadline")
    return format_local(datetime.fromisoformat(str(raw)), "UTC", "%d %b %Y %H:%M") + " UTC"


def _context(payload: Mapping[str, object], tenant: Tenant, step: str, customer_name: str | None) -> dict[str, str]:
    """The notification's fields in the language in force (:func:`app.notifications.language.speaking`)."""
    kind, status = str(payload.get("kind") or "dispute"), str(payload.get("status") or "")
    context = {"business": tenant.name, "customer": customer_name or _("A customer"),
               "case": str(CASE_NAMES.get(kind, kind.replace("_", " "))),
               "reason": str(payload.get("reason") or ""), "decision": str(payload.get("decision") or ""),
               "refund": str(payload.get("refund") or ""),
               "status": str(STATUS_NAMES.get(status, status.replace("_", " "))),
               "answered": str(ANSWERED.get(step, ANSWERED["answered"])), "deadline": _deadline(payload, tenant)}
    if step in ("decided", "accepted", "closed"):
        context["reason"] = ""
    return context


def notify_dispute_step(event_id: str, kind: str, payload: Mapping[str, object],
                        tenant_id: uuid.UUID) -> list[Notified]:
    """``dispute.changed`` (payload of :func:`app.disputes.service.announce`): the customer's
    account (when there is one) and the business's owners and managers get the step's type;
    once per event and person. Flushes."""
    tenant = db.session.get(Tenant, tenant_id)
    case_id = str(payload.get("dispute_id") or "")
    if tenant is None or not case_id:
        return []
    step = str(payload.get("step") or "")
    type_key = STEP_TYPES.get(step, "dispute_updated")
    customer_name = db.session.scalar(
        sa.select(Customer.name).join(Booking, sa.and_(Booking.customer_id == Customer.id,
                                                       Booking.tenant_id == Customer.tenant_id))
        .where(Booking.id == uuid.UUID(str(payload.get("booking_id")))))
    out = []
    customer_user = payload.get("customer_user_id")
    if customer_user:
        with speaking(user_locale(customer_user, tenant_id)):
            context = _context(payload, tenant, step, customer_name)
        out.append(notify(user_id=uuid.UUID(str(customer_user)), type_key=type_key, audience="customer",
                          tenant_id=tenant_id, context=context, subject_key=f"dispute:{case_id}",
                          url=platform_url(f"/account/cases/{tenant_id}/{case_id}"),
                          source_key=f"dispute:{event_id}:customer"))
    url = tenant_url(tenant, f"/dashboard/disputes/{case_id}")
    for uid in leader_user_ids():
        with speaking(user_locale(uid, tenant_id)):
            context = _context(payload, tenant, step, customer_name)
        out.append(notify(user_id=uid, type_key=type_key, audience="staff", tenant_id=tenant_id, context=context,
                          subject_key=f"dispute:{case_id}", url=url, source_key=f"dispute:{event_id}:{uid}"))
    return out
