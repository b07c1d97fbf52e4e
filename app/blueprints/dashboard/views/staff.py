"""Set-up: staff members (list, new, profile within the plan's seats) and their dashboard invitations."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from app.billing.errors import StaffSeatLimit
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    InviteForm,
    StaffForm,
)
from app.blueprints.dashboard.views.common import clock_range_text, current_tenant, done, weekday_text
from app.catalog.models import StaffMember, WorkingHours
from app.catalog.service import (
    list_staff,
)
from app.extensions import db
from app.team.errors import InvitationClosed, InvitationError
from app.team.service import (
    invite_staff,
    login_roles,
    login_roles_by_staff,
    pending_by_staff,
    pending_invitation,
    revoke_invitation,
)
from app.team.staff import add_staff_member, update_staff_profile
from app.tenants.models import Role, StaffInvitation
from app.timeutil import utcnow, zone
from app.web import get_or_404, render_page, user_roles
from app.web.access import manager_required, owner_required


def _hours_summary(staff_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """``staff id -> ["Mon 09:00–12:00, 13:00–17:00", …]`` of the weekly hours."""
    out: dict[uuid.UUID, dict[int, list[str]]] = {}
    if staff_ids:
        for row in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id.in_(staff_ids))
                                      .order_by(WorkingHours.weekday, WorkingHours.start_time)):
            out.setdefault(row.staff_id, {}).setdefault(row.weekday, []).append(
                clock_range_text(row.start_time, row.end_time))
    return {sid: [f"{weekday_text(d)} {', '.join(r)}" for d, r in sorted(days.items())] for sid, days in out.items()}


@bp.get("/dashboard/staff")
@login_required
@manager_required
def staff() -> Response:
    """Every staff member with a summary of their weekly hours and their login: the role of the
    linked account, or a pending invitation."""
    members = list_staff(active_only=False)
    logins = login_roles_by_staff([m.id for m in members])
    return render_page("dashboard/staff.html", members=members, hours=_hours_summary([m.id for m in members]),
                       logins=logins, invitations=pending_by_staff(), now=utcnow())


@bp.route("/dashboard/staff/new", methods=["GET", "POST"])
@login_required
@manager_required
def staff_new() -> Response:
    """Add a staff member (then set their hours)."""
    form = StaffForm()
    if request.method == "POST":
        if form.validate():
            try:
                member = add_staff_member(name=form.name.data, bio=form.bio.data or "", email=form.email.data or None,
                                          position=len(list_staff(active_only=False)), active=bool(form.active.data))
            except StaffSeatLimit as exc:
                form.name.errors = [*form.name.errors, _seat_error(exc, "add more")]
                return render_page("dashboard/staff_form.html", block="form", status=422, form=form, member=None,
                                   tab="profile")
            return done(_("%(name)s was added. Now set their working hours.", name=member.name),
                         url_for("dashboard.staff_hours", staff_id=member.id))
        return render_page("dashboard/staff_form.html", block="form", status=422, form=form, member=None, tab="profile")
    return render_page("dashboard/staff_form.html", block="form", form=form, member=None, tab="profile")


def _seat_error(exc: Exception, what: str) -> Markup:
    """The seat-limit message with the link to upgrade (shown beside the name field)."""
    return Markup(f'{escape(str(exc))} <a href="{url_for("billing.page")}">Upgrade your plan</a> to {what}.')


def _render_staff_edit(member: StaffMember, *, form: StaffForm | None = None, invite_form: InviteForm | None = None,
                       status: int = 200, block: str = "form") -> Response:
    """The profile page of ``member``: the profile form and the "Dashboard login" card
    (the linked account's role, the pending invitation, or the invite form)."""
    if invite_form is None:
        invite_form = InviteForm(formdata=None, data={"email": member.email or "", "role": "staff"})
    roles = user_roles()
    if Role.OWNER.value not in roles:
        invite_form.role.choices = [c for c in invite_form.role.choices if c.value != Role.MANAGER.value]
    return render_page("dashboard/staff_form.html", block=block, status=status,
                       form=form or StaffForm(formdata=None, obj=member), member=member, tab="profile",
                       invite_form=invite_form, invitation=pending_invitation(member.id),
                       login_roles=login_roles(member.id), is_owner=Role.OWNER.value in roles, now=utcnow(),
                       tenant_zone=zone(current_tenant().timezone))


@bp.route("/dashboard/staff/<staff_id>", methods=["GET", "POST"])
@login_required
@manager_required
def staff_edit(staff_id: str) -> Response:
    """A staff member's profile: name, bio, email, active; and their dashboard login.

    Making an inactive member active takes a staff seat: beyond the plan's seats (billing
    on) it answers 422 with the upgrade link and nothing is saved.
    """
    member = get_or_404(StaffMember, staff_id)
    if request.method == "GET":
        return _render_staff_edit(member)
    form = StaffForm()
    if form.validate():
        try:
            update_staff_profile(member, name=form.name.data, bio=form.bio.data or "", email=form.email.data or None,
                                 active=bool(form.active.data))
        except StaffSeatLimit as exc:
            form.active.errors = [*form.active.errors, _seat_error(exc, "make them active")]
            return _render_staff_edit(member, form=form, status=422)
        return done(_("%(name)s was saved.", name=member.name), url_for("dashboard.staff"))
    return _render_staff_edit(member, form=form, status=422)


@bp.post("/dashboard/staff/<staff_id>/invite")
@login_required
@manager_required
def staff_invite(staff_id: str) -> Response:
    """Invite the staff member to log in (form ``email``, ``role``): the invitation email goes
    out once this commits; a pending invitation to the same address or member is replaced.
    Only owners may invite managers. Errors re-render the login card with 422."""
    member = get_or_404(StaffMember, staff_id)
    form = InviteForm()
    if form.validate():
        try:
            with db.session.begin_nested():  # a refused invitation writes nothing
                inv = invite_staff(member, email=form.email.data, role=form.role.data or "staff",
                                   inviter=current_user, inviter_roles=user_roles())
        except InvitationError as exc:
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        else:
            return done(_("Invitation sent to %(email)s. The link works for 7 days.", email=inv.email),
                         url_for("dashboard.staff_edit", staff_id=member.id))
    return _render_staff_edit(member, invite_form=form, status=422, block="invite")


@bp.post("/dashboard/staff/<staff_id>/invitations/<invitation_id>/revoke")
@login_required
@owner_required
def staff_invite_revoke(staff_id: str, invitation_id: str) -> Response:
    """Withdraw a pending invitation (owners only; others get 403). Its link stops working."""
    member = get_or_404(StaffMember, staff_id)
    inv = get_or_404(StaffInvitation, invitation_id)
    if inv.staff_member_id != member.id:
        abort(404)
    try:
        with db.session.begin_nested():  # a refused withdrawal writes nothing, though the answer is a redirect
            revoke_invitation(inv)
    except InvitationClosed as exc:
        flash(exc.message, "error")
        return redirect(url_for("dashboard.staff_edit", staff_id=member.id), 303)
    return done(_("The invitation to %(email)s was withdrawn.", email=inv.email), url_for("dashboard.staff_edit", staff_id=member.id))
