"""Routing's jobs: route a submitted job request, and tell a provider a lead was offered to it.

* :func:`route_request` (enqueued after commit by the wizard / API with ``str(job_request.id)``,
  and by the sweep for ``open`` requests the enqueue missed): one routing round
  (:func:`app.leads.routing_offers.route`), idempotent.
* :func:`jobs_for_event` (an outbox router, :data:`app.outbox.relay.ROUTERS`): ``lead.offered``
  becomes :func:`send_offer_email`.
* :func:`send_offer_email`: the owners and managers of the business get one email per lead.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.delivery.mailer import account_email, local
from app.delivery.pipeline import deliver
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import JobSpec, run_in_tenant, run_on_platform
from app.leads.models import Lead, LeadStatus
from app.leads.routing_offers import OFFERED_EVENT, route
from app.notifications.language import email_locale, speaking
from app.tenants.context import platform_scope, require_tenant_id
from app.tenants.models import MANAGER_ROLES, Membership, Tenant
from app.tenants.urls import tenant_url

TASKS = "app.leads.routing_tasks"
#: Where a provider's lead inbox lives on its host (part W's page).
INBOX_PATH = "/dashboard/leads"


def route_request(job_request_id: str) -> str:
    """Job: one routing round of job request ``job_request_id`` (a UUID string) in its own unit of
    work on the platform role; returns ``routed``, ``manual``, ``skipped`` or ``gone``
    (:func:`app.leads.routing_offers.route`). Safe to run twice."""
    return run_on_platform(route, uuid.UUID(job_request_id))


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: a ``lead.offered`` event becomes the provider's email."""
    if kind == OFFERED_EVENT and payload.get("lead_id"):
        return [JobSpec(f"{TASKS}.send_offer_email", (tenant_id, str(payload["lead_id"])))]
    return []


def manager_emails(tenant_id: uuid.UUID) -> list[str]:
    """Login emails of the owners and managers of business ``tenant_id`` (platform scope), sorted."""
    with platform_scope("leads: the business's owners and managers"):
        return sorted(set(db.session.scalars(
            sa.select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == tenant_id, Membership.role.in_([r.value for r in MANAGER_ROLES])))))


def send_offer_email(tenant_id: str, lead_id: str) -> str:
    """Job: email business ``tenant_id``'s owners and managers that lead ``lead_id`` is theirs to
    claim, once per lead and person; returns ``sent``, ``gone`` (no such lead) or ``skipped``
    (no longer offered).

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_offer_email, lead_id)


def _send_offer_email(lead_id: str) -> str:
    tenant_id = require_tenant_id()
    lead = db.session.scalar(sa.select(Lead).where(Lead.id == uuid.UUID(lead_id)))
    if lead is None:
        return "gone"
    if lead.status != LeadStatus.OFFERED:
        return "skipped"
    tenant = db.session.get(Tenant, tenant_id)
    place = " ".join(p for p in (lead.postcode, lead.city) if p)
    for email in manager_emails(tenant_id):
        with speaking(email_locale(email, tenant_id)):  # each manager's own language
            subject, text = offer_mail(lead, tenant, place)
        deliver(f"lead-offered:{lead.id}:{email}", account_email(email, subject, text))
    return "sent"


def offer_mail(lead: Lead, tenant: Tenant, place: str) -> tuple[str, str]:
    """The offer email's subject and plain text, in the language in force: the job, where
    (``place``: postcode and city, may be empty), when, the credits it costs and the deadline (in
    the business's time zone)."""
    title = lead.title or _("a job")
    subject = (_("New job request: %(title)s in %(place)s", title=title, place=place) if place
               else _("New job request: %(title)s", title=title))
    expires = local(lead.expires_at, tenant.timezone or "UTC") if lead.expires_at else _("soon")
    lines = [_("%(business)s: a customer's job request was routed to you.", business=tenant.name), "",
             _("Job: %(title)s", title=lead.title or _("see the details")),
             _("Where: %(place)s", place=place or _("not given")), _("When: %(timing)s", timing=lead.timing),
             ngettext("Claiming it costs %(num)d credit.", "Claiming it costs %(num)d credits.", lead.credits_cost),
             _("Claim it before %(when)s: %(link)s", when=expires, link=tenant_url(tenant, INBOX_PATH)), ""]
    return subject, "\n".join(lines)
