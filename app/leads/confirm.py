"""The customer decides on a quote: confirm it (it becomes a booking in the provider's calendar)
or reject it.

Confirming goes through the booking core of the provider's tenant (:func:`app.checkout.booking.
place_booking`: the exclusion constraint guards the slot, the business's money policy may ask a
deposit, and the booking's own notifications tell both sides). The quote is booked as the
provider's non-public "Quoted job" service of the quoted duration, priced at the quote's maximum,
performed by any of their active staff. Then the lead is ``won`` with its ``booking_id``, every
other live lead of the request ``lost`` (or ``expired`` when only offered), the request ``booked``
with ``won_lead_id``; each change is audit-logged and the providers are emailed after commit.

The request row is locked (``SELECT … FOR UPDATE``) first, so two confirms at once (a double
click, two tabs) make one booking: the second sees the request booked with the same lead and
returns that booking.

Functions flush and never commit. Call them with no tenant in scope (the apex's platform role):
they switch between ``platform_scope`` (the request, other providers' leads) and each provider's
``tenant_scope`` (its lead, catalog and booking) themselves.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.booking.models import Booking
from app.booking.service import CustomerInput
from app.catalog.models import Service, StaffMember
from app.catalog.service import QUOTED_JOB_CATEGORY, create_service
from app.catalog.translations import reader_locale_id
from app.checkout.booking import place_booking
from app.errors import InputError
from app.extensions import db
from app.formatting import format_money
from app.jobs.runner import enqueue
from app.leads.customer import quoted_minutes
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.scheduling.service import find_slots
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import after_commit

#: Days of availability offered at once when picking a start.
PICK_DAYS = 14
#: Lead statuses still in play while the customer has not decided.
LIVE = (LeadStatus.OFFERED, LeadStatus.CLAIMED, LeadStatus.QUOTED)
#: The job that emails a provider about the customer's decision on their lead.
OUTCOME_JOB = "app.leads.customer_tasks.send_lead_outcome"


class DecisionRefused(InputError):
    """The quote cannot be confirmed or rejected now (not quoted, request closed, another
    quote already confirmed); ``message`` says which."""


def _locked_request(job_request_id: uuid.UUID) -> JobRequest:
    with platform_scope("job request: the customer decides on a quote"):
        found = db.session.scalar(sa.select(JobRequest).where(JobRequest.id == job_request_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if found is None:
        raise DecisionRefused(_("This request no longer exists."))
    return found


def _lead_of(job_request_id: uuid.UUID, lead_id: uuid.UUID) -> Lead:
    with platform_scope("job request: the customer decides on a quote"):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id, Lead.job_request_id == job_request_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if lead is None:
        raise DecisionRefused(_("This offer is not part of your request."))
    return lead


def quoted_job_service(minutes: int, price_amount: int, currency: str) -> Service:
    """The tenant's non-public "Quoted job" service lasting ``minutes`` at ``price_amount``
    (minor units of ``currency``), performed by every active staff member; created when missing.
    Tenant in scope; flushes.

    Raises:
        DecisionRefused: the business has no active staff member to do the job.
    """
    found = db.session.scalar(sa.select(Service).where(
        Service.category == QUOTED_JOB_CATEGORY, Service.duration_minutes == minutes,
        Service.price_amount == price_amount, Service.currency == currency, Service.active.is_(True)))
    if found is not None:
        return found
    staff = list(db.session.scalars(sa.select(StaffMember.id).where(StaffMember.active.is_(True))
                                    .order_by(StaffMember.position)))
    if not staff:
        raise DecisionRefused(_("This provider has no one in their calendar yet; send them a message instead."))
    return create_service(name=f"Quoted job ({minutes} min)", duration_minutes=minutes, price_amount=price_amount,
                          currency=currency, category=QUOTED_JOB_CATEGORY, staff_ids=staff, position=10_000)


def _service_for(lead: Lead) -> Service:
    """The quoted-job service that books ``lead``'s quote (tenant of the lead in scope)."""
    if lead.quote_max_amount is None or lead.quote_currency is None:
        raise DecisionRefused(_("This provider has not sent a price yet."))
    return quoted_job_service(quoted_minutes(lead), lead.quote_max_amount, lead.quote_currency)


def available_starts(job_request_id: uuid.UUID, lead_id: uuid.UUID, start_date: date | None = None,
                     days: int = PICK_DAYS) -> tuple[Tenant, list[datetime]]:
    """The provider of ``lead_id`` and the starts (UTC) they can do the quoted job on, for
    ``days`` days from ``start_date`` (default: today in the provider's zone); any staff member.
    May create the quoted-job service (:func:`quoted_job_service`).

    Raises:
        DecisionRefused: the lead is not this request's or not quoted.
    """
    lead = _lead_of(job_request_id, lead_id)
    if lead.status != LeadStatus.QUOTED:
        raise DecisionRefused(_("This offer cannot be booked."))
    with tenant_scope(lead.tenant_id):
        tenant = db.session.get(Tenant, lead.tenant_id)
        service = _service_for(lead)
        first = start_date or utcnow().date()
        slots = find_slots(tenant, service, staff_id=None, start_date=first,
                           end_date=first + timedelta(days=days - 1), any_staff_merge=True)
    return tenant, [s.start for s in slots]


def confirm_quote(job_request_id: uuid.UUID, lead_id: uuid.UUID, start: datetime, actor: AuditActor) -> Booking:
    """The customer confirms ``lead_id``'s quote for ``start`` (tz-aware): a booking at the
    provider (see the module docstring); returns it. Idempotent: when this lead already won,
    its booking is returned and nothing changes.

    Raises:
        DecisionRefused: not quoted any more, the request is closed, or another quote was confirmed.
        SlotUnavailable: the start is not free (``alternatives``: the next free starts).
        PaymentUnavailable: the business asks a deposit and Stripe is unreachable (roll back).
    """
    job_request = _locked_request(job_request_id)
    if job_request.status == JobRequestStatus.BOOKED:
        if job_request.won_lead_id == lead_id:
            return _booking_of(_lead_of(job_request_id, lead_id))
        raise DecisionRefused(_("You already confirmed another quote for this request."))
    if job_request.status in (JobRequestStatus.CLOSED, JobRequestStatus.CANCELLED):
        raise DecisionRefused(_("This request is closed."))
    lead = _lead_of(job_request_id, lead_id)
    if lead.status != LeadStatus.QUOTED:
        raise DecisionRefused(_("This offer can no longer be confirmed."))
    now = utcnow()
    with tenant_scope(lead.tenant_id):
        tenant = db.session.get(Tenant, lead.tenant_id)
        service = _service_for(lead)
        price = format_money(lead.quote_min_amount or 0, lead.quote_currency or service.currency)
        notes = (f"Quote accepted: {lead.title or 'job request'} ({price}–"
                 f"{format_money(lead.quote_max_amount or 0, service.currency)}). {lead.postcode} {lead.city}".strip())
        booking = place_booking(
            tenant, service, staff_id=None, start=start,
            customer=CustomerInput(job_request.contact_name or "Customer", job_request.contact_email,
                                   job_request.contact_phone or None, reader_locale_id()),
            customer_timezone=tenant.timezone, notes=notes, user_id=job_request.user_id)
        before = {"status": lead.status}
        lead.status, lead.booking_id, lead.decided_at = LeadStatus.WON.value, booking.id, now
        db.session.flush()
        record_audit(actor, "lead.won", "lead", lead.id, reason="the customer confirmed the quote",
                     before=before, after={"status": lead.status, "booking_id": str(booking.id)})
    losers = _close_other_leads(job_request.id, lead.id, actor, now)
    with platform_scope("job request: booked"):
        before_status = job_request.status
        job_request.status, job_request.won_lead_id, job_request.updated_at = (
            JobRequestStatus.BOOKED.value, lead.id, now)
        db.session.flush()
        record_audit(actor, "job_request.booked", "job_request", job_request.id, reason="the customer confirmed a quote",
                     before={"status": before_status}, after={"status": job_request.status, "won_lead_id": str(lead.id)})
    for tid, lid in [(lead.tenant_id, lead.id), *losers]:
        after_commit(lambda t=tid, i=lid: enqueue(OUTCOME_JOB, str(t), str(i)))
    return booking


def _booking_of(lead: Lead) -> Booking:
    with tenant_scope(lead.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == lead.booking_id))
    if booking is None:
        raise DecisionRefused(_("The booking of this quote was removed."))
    return booking


def _close_other_leads(job_request_id: uuid.UUID, won_id: uuid.UUID, actor: AuditActor,
                       now: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Every other live lead of the request: ``lost`` when the provider took it up, ``expired``
    when only offered; audited in each provider's tenant. Returns ``(tenant_id, lead_id)`` of the
    lost ones (their providers are told)."""
    with platform_scope("job request: the other providers' leads"):
        others = list(db.session.scalars(sa.select(Lead).where(
            Lead.job_request_id == job_request_id, Lead.id != won_id,
            Lead.status.in_([s.value for s in LIVE])).with_for_update()))
    lost: list[tuple[uuid.UUID, uuid.UUID]] = []
    for other in others:
        with tenant_scope(other.tenant_id):
            before = other.status
            other.status = (LeadStatus.EXPIRED if before == LeadStatus.OFFERED else LeadStatus.LOST).value
            other.decided_at = now
            db.session.flush()
            record_audit(actor, f"lead.{other.status}", "lead", other.id,
                         reason="the customer confirmed another provider's quote",
                         before={"status": before}, after={"status": other.status})
        if other.status == LeadStatus.LOST:
            lost.append((other.tenant_id, other.id))
    return lost


def reject_quote(job_request_id: uuid.UUID, lead_id: uuid.UUID, reason: str, actor: AuditActor) -> Lead:
    """The customer turns down ``lead_id`` (claimed or quoted): the lead is ``lost``, ``reason``
    (up to 500 characters) goes in the audit entry, and the provider is emailed after commit.
    Returns the lead.

    Raises:
        DecisionRefused: the request is closed or booked, or the offer is not open.
    """
    job_request = _locked_request(job_request_id)
    if job_request.status in (JobRequestStatus.BOOKED, JobRequestStatus.CLOSED, JobRequestStatus.CANCELLED):
        raise DecisionRefused(_("This request is no longer open."))
    lead = _lead_of(job_request_id, lead_id)
    if lead.status not in (LeadStatus.CLAIMED, LeadStatus.QUOTED):
        raise DecisionRefused(_("This offer is not open any more."))
    with tenant_scope(lead.tenant_id):
        before = lead.status
        lead.status, lead.decided_at = LeadStatus.LOST.value, utcnow()
        db.session.flush()
        record_audit(actor, "lead.rejected", "lead", lead.id, reason=(reason or "no reason given")[:500],
                     before={"status": before}, after={"status": lead.status})
    tid, lid = str(lead.tenant_id), str(lead.id)
    after_commit(lambda: enqueue(OUTCOME_JOB, tid, lid))
    return lead
