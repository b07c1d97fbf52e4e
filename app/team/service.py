"""Staff invitations: an owner or manager invites a staff member by email to log in to the
business's dashboard as ``staff`` or ``manager``; the person accepts through a link.

Rules (the tenant in scope throughout):

* Only owners may invite managers; owners and managers may invite staff.
* One pending invitation per email (and per staff member): inviting again replaces
  (revokes) the previous pending one, so only the newest link works.
* A link is valid for :data:`INVITE_TTL` (7 days) and works once. The token is signed with
  the app's secret and names the tenant, the invitation and its random nonce; the row is
  the authority on status and expiry.
* Accepting gives the account the role (a :class:`~app.tenants.models.Membership` linked to
  the staff member), links ``StaffMember.user_id`` and tells the owners and managers.
* The invitation email is an outbox event (``staff.invited``), so it leaves only once the
  invite has committed; an existing account also gets the in-app notice.

Functions flush and never commit.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import record_audit, request_actor
from app.catalog.models import StaffMember
from app.extensions import db
from app.identity.models import User
from app.identity.service import (
    TokenError,
    find_user,
    make_token,
    normalize_email,
    read_token,
    register_account,
)
from app.outbox.events import emit
from app.team.errors import InvitationClosed, InvitationEmailMismatch, InvitationError, InvitationUnverified
from app.tenants.context import require_tenant_id
from app.tenants.models import (
    INVITABLE_ROLES,
    STAFF_ROLES,
    InvitationStatus,
    Membership,
    Role,
    StaffInvitation,
    Tenant,
)
from app.tenants.service import add_membership
from app.tenants.urls import tenant_url
from app.timeutil import utcnow

INVITE_TTL = timedelta(days=7)
#: Outbox event kind written by :func:`invite_staff`; relayed to the invitation email job.
INVITE_EVENT = "staff.invited"
#: Outbox event of an accepted invitation (payload ``user_id``, ``role``).
JOINED_EVENT = "staff.joined"
TOKEN_PURPOSE = "staff-invite"
#: The signature outlives any invitation; the row's ``expires_at`` decides expiry.
_TOKEN_MAX_AGE = 90 * 24 * 3600
_STAFF_ROLE_NAMES = frozenset(r.value for r in STAFF_ROLES)


# --------------------------------------------------------------------------- reading


def invitation_token(invitation: StaffInvitation) -> str:
    """The signed token of ``invitation``'s accept link (any number of tokens made for the
    same invitation are equivalent)."""
    return make_token(TOKEN_PURPOSE, {"t": str(invitation.tenant_id), "i": str(invitation.id),
                                      "n": invitation.nonce})


def invitation_url(tenant: Tenant, invitation: StaffInvitation) -> str:
    """Absolute URL of the accept page ``/invite/<token>`` on the tenant's host (for emails).

    Scheme ``PREFERRED_URL_SCHEME``, host ``<slug>.<PLATFORM_DOMAIN>``, ``:PUBLIC_PORT`` unless
    the scheme's default (:func:`app.tenants.urls.tenant_url`).
    """
    return tenant_url(tenant, f"/invite/{invitation_token(invitation)}")


def find_invitation(token: str) -> StaffInvitation | None:
    """The current tenant's invitation a token names, or ``None`` when the token is forged,
    malformed, made for another tenant, or names an invitation this tenant does not have."""
    try:
        data = read_token(TOKEN_PURPOSE, token, _TOKEN_MAX_AGE)
        tenant_id, inv_id, nonce = uuid.UUID(data["t"]), uuid.UUID(data["i"]), str(data["n"])
    except (TokenError, KeyError, TypeError, ValueError):
        return None
    if tenant_id != require_tenant_id():
        return None
    inv = db.session.scalar(sa.select(StaffInvitation).where(StaffInvitation.id == inv_id))
    if inv is None or not secrets.compare_digest(inv.nonce, nonce):
        return None
    return inv


def pending_invitation(staff_member_id: uuid.UUID) -> StaffInvitation | None:
    """The staff member's pending invitation (possibly expired), or ``None``."""
    return db.session.scalar(sa.select(StaffInvitation).where(
        StaffInvitation.staff_member_id == staff_member_id,
        StaffInvitation.status == InvitationStatus.PENDING.value).order_by(StaffInvitation.created_at.desc()))


def pending_by_staff() -> dict[uuid.UUID, StaffInvitation]:
    """``staff member id -> pending invitation`` for the tenant in scope (newest wins)."""
    rows = db.session.scalars(sa.select(StaffInvitation).where(
        StaffInvitation.status == InvitationStatus.PENDING.value,
        StaffInvitation.staff_member_id.is_not(None)).order_by(StaffInvitation.created_at))
    return {row.staff_member_id: row for row in rows if row.staff_member_id is not None}


def login_roles(staff_member_id: uuid.UUID) -> list[str]:
    """Staff roles held by the account linked to a staff member (by membership), e.g. ``["manager"]``."""
    return sorted(set(db.session.scalars(sa.select(Membership.role).where(
        Membership.staff_member_id == staff_member_id, Membership.role.in_(_STAFF_ROLE_NAMES)))))


def login_roles_by_staff(staff_member_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The staff role of the account linked to each of ``staff_member_ids`` that has one
    (``owner``, ``manager`` or ``staff``), in one query. Tenant in scope."""
    if not staff_member_ids:
        return {}
    return {sid: role for sid, role in db.session.execute(
        sa.select(Membership.staff_member_id, Membership.role).where(
            Membership.staff_member_id.in_(staff_member_ids), Membership.role.in_(_STAFF_ROLE_NAMES)))}


def check_open(invitation: StaffInvitation, now: datetime | None = None) -> None:
    """Accept only a pending invitation before its expiry.

    Raises:
        InvitationClosed: ``accepted`` (already used), ``revoked``, or ``expired``.
    """
    now = now or utcnow()
    if invitation.status == InvitationStatus.ACCEPTED.value:
        raise InvitationClosed("accepted", _("This invitation has already been used."))
    if invitation.status == InvitationStatus.REVOKED.value:
        raise InvitationClosed("revoked", _("This invitation was withdrawn by the business."))
    if invitation.is_expired(now):
        raise InvitationClosed("expired", _("This invitation has expired."))


# --------------------------------------------------------------------------- writing


def _staff_role_of(user_id: uuid.UUID) -> str | None:
    roles = set(db.session.scalars(sa.select(Membership.role).where(Membership.user_id == user_id)))
    held = roles & _STAFF_ROLE_NAMES
    return sorted(held)[0] if held else None


def invite_staff(staff: StaffMember, *, email: str, role: str, inviter: User, inviter_roles: Iterable[str],
                 now: datetime | None = None) -> StaffInvitation:
    """Invite ``email`` to log in as ``role`` (``staff``/``manager``), linked to ``staff``.

    Revokes the pending invitation of the same email or staff member (a re-invite replaces
    it), writes the invitation and a ``staff.invited`` outbox event (the email), gives the
    staff member the email when they had none, and for an existing account adds the in-app
    notice. Flushes. Returns the new pending invitation.

    Raises:
        InvitationError: ``field='role'``: not staff/manager, or a manager invites a manager;
            ``field='email'``: the staff member already has a login, the address's account
            already holds a staff role in this business, or a manager would replace an
            owner's pending manager invitation.
    """
    now = now or utcnow()
    email = normalize_email(email)
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise InvitationError("role", _("Choose staff or manager."))
    if role == Role.MANAGER.value and Role.OWNER.value not in set(inviter_roles):
        raise InvitationError("role", _("Only an owner can invite a manager."))
    if staff.user_id is not None:
        raise InvitationError("email", _("%(name)s already has a login to this business.", name=staff.name))
    existing = find_user(email)
    if existing is not None and _staff_role_of(existing.id) is not None:
        raise InvitationError("email", _("This person is already on your team."))
    pending = list(db.session.scalars(sa.select(StaffInvitation).where(
        StaffInvitation.status == InvitationStatus.PENDING.value,
        sa.or_(StaffInvitation.email == email, StaffInvitation.staff_member_id == staff.id))))
    if Role.OWNER.value not in set(inviter_roles) and any(
            old.role == Role.MANAGER.value and not old.is_expired(now) for old in pending):
        # replacing it would withdraw an owner's manager invitation, which only owners may do
        raise InvitationError("email", _("An owner's invitation to join as a manager is pending for this person."))
    for old in pending:
        old.status, old.revoked_at = InvitationStatus.REVOKED.value, now
    db.session.flush()  # the partial unique index: at most one pending per email
    inv = StaffInvitation(id=uuid.uuid4(), staff_member_id=staff.id, email=email, role=role,
                          nonce=secrets.token_urlsafe(24), status=InvitationStatus.PENDING.value,
                          invited_by=inviter.id, created_at=now, expires_at=now + INVITE_TTL)
    db.session.add(inv)
    if not staff.email:
        staff.email = email
    # Only an account that proved it holds the invited mailbox sees the link in the app
    # (``notify_user_id``): anyone can sign up with an address they do not own, and never verify it.
    verified = existing is not None and existing.email_verified_at is not None
    record_audit(request_actor(), "membership.invited", "staff_invitation", inv.id, after={"role": role})
    emit(INVITE_EVENT, {"invitation_id": str(inv.id), "role": role, "inviter": inviter.name or inviter.email,
                        "notify_user_id": str(existing.id) if verified else None})
    db.session.flush()
    return inv


def revoke_invitation(invitation: StaffInvitation, now: datetime | None = None) -> StaffInvitation:
    """Withdraw a pending invitation (its link stops working); flushes.

    Raises:
        InvitationClosed: it was already accepted (``accepted``); revoking a revoked or
            expired invitation is a no-op.
    """
    if invitation.status == InvitationStatus.ACCEPTED.value:
        raise InvitationClosed("accepted", _("This invitation has already been accepted."))
    if invitation.status == InvitationStatus.PENDING.value:
        invitation.status, invitation.revoked_at = InvitationStatus.REVOKED.value, now or utcnow()
        record_audit(request_actor(), "membership.invitation_revoked", "staff_invitation", invitation.id)
        db.session.flush()
    return invitation


def accept_invitation(invitation: StaffInvitation, user: User, now: datetime | None = None) -> Membership:
    """``user`` accepts: gets the role (membership linked to the staff member), the staff member
    is linked to the account, the invitation is marked accepted, and the business's owners
    and managers are notified. Flushes. Returns the membership.

    Raises:
        InvitationClosed: expired, revoked, or already used.
        InvitationEmailMismatch: ``user``'s email is not the invited address.
        InvitationUnverified: ``user`` never confirmed that address (anyone can sign up with an
            address they do not hold; the role goes only to whoever proved they hold it).
    """
    now = now or utcnow()
    db.session.refresh(invitation, with_for_update=True)  # two tabs accepting at once: one wins
    check_open(invitation, now)
    if normalize_email(user.email) != invitation.email:
        raise InvitationEmailMismatch(invitation.email)
    if user.email_verified_at is None:
        raise InvitationUnverified(invitation.email)
    staff = None
    if invitation.staff_member_id is not None:
        staff = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == invitation.staff_member_id)
                                  .with_for_update())
    if staff is not None and staff.user_id not in (None, user.id):
        raise InvitationClosed("accepted", _("This staff member is already linked to another account."))
    membership = add_membership(user, Role(invitation.role), staff_member_id=staff.id if staff else None)
    if staff is not None:
        staff.user_id = user.id
    invitation.status, invitation.accepted_at, invitation.accepted_by = InvitationStatus.ACCEPTED.value, now, user.id
    emit(JOINED_EVENT, {"user_id": str(user.id), "role": invitation.role})  # the owners and managers are told
    record_audit(request_actor(), "membership.created", "user", user.id, after={"role": invitation.role})
    db.session.flush()
    return membership


def register_and_accept(invitation: StaffInvitation, *, name: str, password: str,
                        now: datetime | None = None) -> User:
    """A new person accepts: creates their account for the invited address (name and a
    password of at least 10 characters, argon2), verified by the link, then accepts as
    :func:`accept_invitation`. Flushes. Returns the new account.

    Raises:
        InvitationClosed: expired, revoked, or already used.
        AccountError: ``field='password'`` too short; ``field='email'`` the address already
            has an account (log in instead).
    """
    check_open(invitation, now)
    user = register_account(invitation.email, password, name)
    user.email_verified_at = now or utcnow()  # the link came to that mailbox
    accept_invitation(invitation, user, now)
    return user
