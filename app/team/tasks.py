"""Jobs of the team domain: the staff invitation email (from the ``staff.invited`` outbox event)."""

from __future__ import annotations

import uuid
from email.message import Message

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.delivery.mailer import build_message, finish_message, local, sender
from app.delivery.pipeline import deliver
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.jobs.runner import run_in_tenant
from app.team.service import INVITE_EVENT, invitation_url
from app.tenants.errors import TenantNotFound
from app.tenants.models import InvitationStatus, StaffInvitation, Tenant
from app.timeutil import utcnow

TASKS = "app.team.tasks"


def invitation_email_key(invitation_id: uuid.UUID | str) -> str:
    """Dedup key of the email of one invitation (a re-invite is a new invitation, so a new email)."""
    return f"staff-invite:{invitation_id}"


def invitation_jobs(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[tuple[str, tuple[str, ...]]]:
    """``(dotted job path, args)`` an outbox event of the team domain causes (the relay enqueues them)."""
    if kind == INVITE_EVENT and payload.get("invitation_id"):
        return [(f"{TASKS}.send_invitation_email", (tenant_id, str(payload["invitation_id"]), event_id))]
    return []


def invitation_email(invitation: StaffInvitation, tenant: Tenant, inviter_name: str) -> Message:
    """The email inviting ``invitation.email`` to log in to ``tenant``, with the accept link
    (``emails/staff_invite.txt`` / ``.html``), sent as ``"<Business> via Plaza" <MAIL_FROM>``;
    in the language in force (:func:`_send_invitation_email` speaks the invitee's)."""
    context = {"business": tenant.name, "inviter": inviter_name, "role": invitation.role,
               "link": invitation_url(tenant, invitation), "email": invitation.email,
               "expires": local(invitation.expires_at, tenant.timezone or "UTC", "%A %d %B %Y")}
    return finish_message(build_message(
        sender=sender(_("%(business)s via Plaza", business=tenant.name)), to=invitation.email,
        subject=_("%(inviter)s invited you to join %(business)s on Plaza", inviter=inviter_name, business=tenant.name),
        text=render_template("emails/staff_invite.txt", **context),
        html=render_template("emails/staff_invite.html", **context),
    ), "staff-invite", None)


def send_invitation_email(tenant_id: str, invitation_id: str, event_id: str) -> str:
    """Job: email a staff invitation once. Returns the delivery outcome, or ``gone`` /
    ``skipped`` when the invitation no longer exists or is no longer pending and valid.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_invitation_email, invitation_id)


def _send_invitation_email(invitation_id: str) -> str:
    inv = db.session.scalar(sa.select(StaffInvitation).where(StaffInvitation.id == uuid.UUID(invitation_id)))
    if inv is None:
        return "gone"
    if inv.status != InvitationStatus.PENDING.value or inv.is_expired(utcnow()):
        return "skipped"
    tenant = db.session.get(Tenant, inv.tenant_id)
    if tenant is None:
        raise TenantNotFound(f"tenant {inv.tenant_id} of invitation {invitation_id} not found")
    inviter = db.session.get(User, inv.invited_by) if inv.invited_by else None
    inviter_name = (inviter.name or inviter.email) if inviter else tenant.name
    # The invitee's language: their account's choice when the address has one, else the business's.
    chosen = db.session.scalar(sa.select(User.locale).where(sa.func.lower(User.email) == inv.email.lower()))
    with force_locale(supported_locale(chosen) or supported_locale(tenant.default_locale) or DEFAULT_LANGUAGE):
        message = invitation_email(inv, tenant, inviter_name)
    return deliver(invitation_email_key(inv.id), message).value
