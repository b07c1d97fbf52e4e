"""Accepting a staff invitation: ``/invite/<token>`` on the business's host.

* A token that is forged, malformed, made for another business or names no invitation of
  this business answers 404 (another tenant's invitation is never revealed).
* Expired, withdrawn or already used invitations answer 410 with a page that says which,
  and what to do.
* A logged-in person whose email is the invited address accepts with one button; a
  different account gets 403 with a message naming both addresses and a way to log out.
* Not logged in and the address has an account: log in first (``next`` brings them back).
  Otherwise the person chooses a name and password; the account is created (argon2),
  counts as verified (the link proved the mailbox) and is logged in.

Accepting ends on ``/dashboard/``.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.blueprints.auth import bp
from app.blueprints.auth.forms import AcceptInviteForm
from app.blueprints.auth.security import AUTH_LIMIT
from app.extensions import db, limiter
from app.identity.service import AccountError, find_user, normalize_email
from app.identity.sessions import rotate_session
from app.team.errors import InvitationClosed, InvitationEmailMismatch, InvitationUnverified
from app.team.service import accept_invitation, check_open, find_invitation, register_and_accept
from app.tenants.models import StaffInvitation
from app.web import render_page

#: Invitation closed reason -> the hint under the message (``%(business)s``: the business's name).
_CLOSED_HINT = {
    "expired": _l("Invitations work for 7 days. Ask %(business)s to send you a new one."),
    "revoked": _l("Ask %(business)s for a new invitation if you still need a login."),
    "accepted": _l("If it was you who accepted it, log in with your email and password."),
}


def _closed(inv: StaffInvitation, exc: InvitationClosed) -> Response:
    business = g.tenant.name
    template = _CLOSED_HINT.get(exc.reason)
    hint = str(template) % {"business": business} if template is not None and "%(" in str(template) else \
        str(template or "")
    if exc.reason == "accepted" and current_user.is_authenticated and current_user.id == inv.accepted_by:
        return redirect("/dashboard/")
    link = ("/dashboard/", _("Go to the dashboard")) if exc.reason == "accepted" and current_user.is_authenticated \
        else (url_for("auth.login"), _("Log in")) if exc.reason == "accepted" else \
        ("/", _("Visit %(business)s", business=business))
    return render_page("auth/invite_closed.html", title=_("Invitation no longer valid"), message=exc.message,
                       hint=hint, reason=exc.reason, link=link, status=410)


def _invitation_or_404(token: str) -> StaffInvitation:
    if g.get("tenant") is None:
        abort(404)
    inv = find_invitation(token)
    if inv is None:
        abort(404)
    return inv


def _page(inv: StaffInvitation, token: str, *, form: AcceptInviteForm | None = None, status: int = 200,
          mismatch: bool = False, unverified: bool = False) -> Response:
    has_account = find_user(inv.email) is not None
    return render_page("auth/invite.html", block="accept", status=status, inv=inv, token=token,
                       form=form or AcceptInviteForm(formdata=None), has_account=has_account, mismatch=mismatch,
                       unverified=unverified,
                       login_url=url_for("auth.login", next=url_for("auth.invite", token=token)))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def invite(token: str) -> Response:
    """Show (GET) or accept (POST) the staff invitation a link names; see the module docstring."""
    inv = _invitation_or_404(token)
    try:
        check_open(inv)
    except InvitationClosed as exc:
        return _closed(inv, exc)
    if current_user.is_authenticated:
        if normalize_email(current_user.email) != inv.email:
            return _page(inv, token, status=403, mismatch=True)
        if current_user.email_verified_at is None:
            return _page(inv, token, status=403, unverified=True)
        if request.method == "GET":
            return _page(inv, token)
        try:
            with db.session.begin_nested():  # a refused acceptance leaves nothing, whatever the answer
                accept_invitation(inv, current_user)
        except InvitationClosed as exc:
            return _closed(inv, exc)
        except InvitationEmailMismatch:
            return _page(inv, token, status=403, mismatch=True)
        except InvitationUnverified:
            return _page(inv, token, status=403, unverified=True)
        rotate_session()  # new privileges, new session id
        flash(_("Welcome to %(business)s! You can now see your bookings here.", business=g.tenant.name), "success")
        return redirect("/dashboard/", 303)
    if find_user(inv.email) is not None:
        # An existing account: it logs in first and comes back here.
        return _page(inv, token, status=200 if request.method == "GET" else 409)
    form = AcceptInviteForm()
    if request.method == "GET":
        return _page(inv, token, form=AcceptInviteForm(formdata=None))
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():  # a refused acceptance leaves nothing, whatever the answer
                user = register_and_accept(inv, name=form.name.data, password=form.password.data)
        except AccountError as exc:
            (form.password if exc.field == "password" else form.name).errors.append(exc.message)
        except InvitationClosed as exc:
            return _closed(inv, exc)
        else:
            login_user(user)
            flash(_("Welcome to %(business)s! Your login is ready.", business=g.tenant.name), "success")
            return redirect("/dashboard/", 303)
    form.password.data = ""
    return _page(inv, token, form=form, status=422)
