"""A provider claims a lead: the credits are spent, the customer's contact is theirs, the job chat opens.

Only a lead of the business in scope (the tenant role sees no other), in status ``offered`` and
not past ``expires_at``, can be claimed. The claim is one unit of work: the lead row is locked
(``SELECT … FOR UPDATE``) so two staff members claiming at once make one claim and one debit
(the second finds it claimed), the credits move with the idempotency key ``claim:<lead id>``
(:func:`app.credits.move_credits`; a retry never debits twice), and the lead gets the contact,
the business's customer record, ``contact_due_at`` (setting ``leads.contact_hours``) and its
chat. An audit entry records it; the customer is emailed after the commit.

**Reading the contact.** A business host runs on the tenant database role, which cannot read
``job_request`` (a platform-only table), and ``platform_scope`` cannot start once the claim has
written. So the contact is read through :func:`app.tenants.roles.platform_read`: a separate
read-only platform-role transaction that sees exactly the job request's contact columns and
nothing else. The routing snapshot on the lead deliberately holds no contact (a provider must
not see it before paying), so it cannot suffice.

Functions flush, never commit; the business is the tenant in scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.audit.service import AuditActor, record_audit
from app.booking.models import Customer
from app.booking.service import CustomerInput, upsert_customer
from app.credits.ledger import InsufficientCredits, move_credits
from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.errors import InputError
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import enqueue, run_in_tenant
from app.leads.chat import open_chat
from app.leads.inbox_links import email_link
from app.leads.models import CLAIM_HOLDING, JobRequest, Lead, LeadStatus
from app.leads.recipients import job_request_locale
from app.notifications.language import speaking
from app.platform_settings import get_setting
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.tenants.roles import platform_read
from app.timeutil import utcnow
from app.uow import after_commit

#: Dotted path of the job that emails the customer about a claim.
CLAIM_EMAIL_JOB = "app.leads.claims.send_claim_email"


class ClaimRefused(InputError):
    """The lead cannot be claimed; ``code`` says why: ``not_routed`` (not offered to this business
    any more: expired, withdrawn, declined, refunded), ``already_claimed`` (a colleague claimed it)
    or ``short_of_credits`` (see :class:`ShortOfCredits`). ``message`` is user-facing."""

    code = "not_routed"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ShortOfCredits(ClaimRefused):
    """The business has ``balance`` credits and the lead costs ``needed``."""

    code = "short_of_credits"

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(ngettext("Claiming this lead needs %(num)d credit and you have %(balance)d. "
                                  "Buy a credit pack to claim it.",
                                  "Claiming this lead needs %(num)d credits and you have %(balance)d. "
                                  "Buy a credit pack to claim it.", needed, balance=balance))
        self.needed = needed
        self.balance = balance


@dataclass(frozen=True)
class ClaimOutcome:
    """A claim's result: the ``lead`` and ``replayed`` (True when this staff member had already
    claimed it: a retry, nothing changed and nothing was debited again)."""

    lead: Lead
    replayed: bool


def lock_lead(lead_id: uuid.UUID) -> Lead | None:
    """The business's lead ``lead_id`` locked for this transaction (``FOR UPDATE``, fresh from the
    database), or ``None`` (missing, or another business's)."""
    return db.session.scalar(sa.select(Lead).where(Lead.id == lead_id).with_for_update()
                             .execution_options(populate_existing=True))


def is_open_offer(lead: Lead, now: datetime | None = None) -> bool:
    """True when ``lead`` can be claimed now: ``offered``, not spam-reported, and not past ``expires_at``."""
    now = now or utcnow()
    return (lead.status == LeadStatus.OFFERED and lead.spam_reported_at is None
            and (lead.expires_at is None or lead.expires_at > now))


def contact_hours() -> int:
    """Hours a claimer has to contact the customer (platform setting ``leads.contact_hours``)."""
    return int(get_setting("leads.contact_hours"))


def request_contact(job_request_id: uuid.UUID) -> dict[str, object] | None:
    """The job request's contact ``{"name", "email", "phone", "user_id"}`` read through the
    platform role's read-only connection (see the module docstring), or ``None`` when it is gone."""
    with platform_read("lead claim: copy the customer's contact") as conn:
        row = conn.execute(sa.select(JobRequest.contact_name, JobRequest.contact_email, JobRequest.contact_phone,
                                     JobRequest.user_id).where(JobRequest.id == job_request_id)).first()
    if row is None:
        return None
    return {"name": row.contact_name, "email": row.contact_email, "phone": row.contact_phone, "user_id": row.user_id}


def claim_lead(lead_id: uuid.UUID, user: User, actor: AuditActor) -> ClaimOutcome:
    """Claim the business's lead ``lead_id`` for staff member ``user`` (see the module docstring).

    Returns the outcome; a retry by the claimer returns ``replayed=True`` and changes nothing.
    Flushes; the customer's email is queued after the commit.

    Raises:
        LookupError: no such lead in this business (answer 404).
        ClaimRefused: not open to claim (``code`` ``not_routed``) or claimed by a colleague
            (``already_claimed``).
        ShortOfCredits: the balance is short (nothing written).
    """
    lead = lock_lead(lead_id)
    if lead is None:
        raise LookupError(f"no lead {lead_id} here")
    if lead.status in CLAIM_HOLDING:
        if lead.claimed_by == user.id:
            return ClaimOutcome(lead, replayed=True)
        who = db.session.scalar(sa.select(User.name).where(User.id == lead.claimed_by)) or "a colleague"
        raise ClaimRefused(_("%(who)s already claimed this lead.", who=who), "already_claimed")
    if not is_open_offer(lead):
        raise ClaimRefused(_("This lead is no longer offered to you: its time to claim ran out or it was withdrawn."))
    contact = request_contact(lead.job_request_id)
    if contact is None:
        raise ClaimRefused(_("The customer withdrew this request."))
    if lead.credits_cost > 0:
        try:
            move_credits("claim", -lead.credits_cost, f"claim:{lead.id}", lead_id=lead.id, actor_user_id=user.id,
                         note=lead.title[:200])
        except InsufficientCredits as exc:
            raise ShortOfCredits(exc.needed, exc.balance) from None
    now = utcnow()
    customer = _customer_for(contact)
    lead.status = LeadStatus.CLAIMED.value
    lead.claimed_at = now
    lead.claimed_by = user.id
    lead.contact_due_at = now + timedelta(hours=contact_hours())
    lead.contact_name = str(contact["name"] or "")[:120]
    lead.contact_email = str(contact["email"] or "")[:254]
    lead.contact_phone = str(contact["phone"] or "")[:32]
    lead.customer_id = customer.id if customer is not None else None
    db.session.flush()
    open_chat(lead, user)
    record_audit(actor, "lead.claimed", "lead", lead.id, after={
        "status": lead.status, "credits": lead.credits_cost, "job_request_id": str(lead.job_request_id),
        "contact_due_at": lead.contact_due_at.isoformat()})
    tenant_id, claimed_lead = str(require_tenant_id()), str(lead.id)
    after_commit(lambda: enqueue(CLAIM_EMAIL_JOB, tenant_id, claimed_lead))
    return ClaimOutcome(lead, replayed=False)


def _customer_for(contact: dict[str, object]) -> Customer | None:
    """The business's customer record for the contact (created or updated by email), or ``None``
    without an email."""
    email = str(contact["email"] or "").strip()
    if "@" not in email:
        return None
    phone = str(contact["phone"] or "").strip() or None
    user_id = contact["user_id"] if isinstance(contact["user_id"], uuid.UUID) else None
    return upsert_customer(CustomerInput(name=str(contact["name"] or "") or email, email=email, phone=phone),
                           user_id=user_id)


def send_claim_email(tenant_id: str, lead_id: str) -> str:
    """Job: email the customer that business ``tenant_id`` took their request (once per lead);
    returns ``sent`` (or the delivery outcome), ``gone`` or ``skipped`` (no address).

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_claim_email, lead_id)


def _send_claim_email(lead_id: str) -> str:
    lead = db.session.scalar(sa.select(Lead).where(Lead.id == uuid.UUID(lead_id)))
    if lead is None:
        return "gone"
    if "@" not in lead.contact_email:
        return "skipped"
    business = db.session.get(Tenant, lead.tenant_id)
    with speaking(job_request_locale(lead.job_request_id, lead.tenant_id)):  # the customer's language
        name = business.name if business is not None else _("A provider")
        text = (_("Hello %(name)s,", name=lead.contact_name or _("there")) + "\n\n"
                + _("%(business)s has taken on your request “%(title)s” and will contact you soon, by phone or in "
                    "the request's chat.", business=name, title=lead.title) + "\n\n"
                + _("See your request, the quotes and the messages here:") + f"\n{email_link(lead.job_request_id)}\n")
        subject = _("%(business)s has your request: %(title)s", business=name, title=lead.title)
    return str(deliver(f"lead-claimed:{lead.id}", account_email(lead.contact_email, subject, text)))
