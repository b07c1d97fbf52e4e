"""Login, logout, customer signup, password reset, email verification and the cross-host
login handoff. Every route works on every host (the apex and each business's host); the
session cookie is per host, so a login holds on the host where it happened.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.blueprints.auth import bp
from app.blueprints.auth.forms import CustomerSignupForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from app.blueprints.auth.security import (
    AUTH_LIMIT,
    account_key,
    is_trusted_device,
    login_failed,
    note_failed_login,
    safe_next,
    send_account_email,
    set_trusted_device,
    warn_account_owner,
)
from app.extensions import db, limiter
from app.identity.models import User
from app.identity.service import (
    AccountError,
    AuthError,
    TokenError,
    authenticate,
    check_password_strength,
    email_verification_token,
    find_user,
    hash_password,
    mark_email_verified,
    password_reset_token,
    register_account,
    reset_password,
    user_from_handoff_token,
    user_from_reset_token,
)
from app.notifications.account import notify_email_verified, notify_login, notify_password_changed
from app.tenants.models import STAFF_ROLES, Membership
from app.tenants.urls import external_url, platform_url
from app.web import render_page
from app.web.effects import after_commit


def _is_staff_here(user: User) -> bool:
    """True when ``user`` holds a staff role (owner, manager, staff) in the current tenant."""
    roles = set(db.session.scalars(sa.select(Membership.role).where(Membership.user_id == user.id)))
    return bool(roles & {r.value for r in STAFF_ROLES})


def _default_destination(user: User) -> str:
    """Where a user lands after logging in without ``next``: staff of this business go to the
    dashboard, everyone else to the storefront; on the apex, to "my bookings"."""
    if g.get("tenant") is None:
        return url_for("account.bookings")
    return "/dashboard/" if _is_staff_here(user) else "/"


def _land(user: User, next_url: str | None) -> Response:
    return redirect(safe_next(next_url) or _default_destination(user))


def _message(title: str, message: str, status: int = 200, *, link: tuple[str, str] | None = None) -> Response:
    return render_page("auth/message.html", title=title, message=message, link=link, status=status)


#: Long-lived random id of a browser, so a sign-in from a new device can be told apart.
DEVICE_COOKIE = "plaza_device"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"], deduct_when=login_failed)
@limiter.limit(AUTH_LIMIT, methods=["POST"], key_func=account_key, deduct_when=login_failed,
               exempt_when=is_trusted_device, on_breach=warn_account_owner)
def login() -> Response:
    """Log in with email and password; then go to ``next`` (a relative path) or the default page.

    Wrong credentials re-render the form with 422 and one message that does not say which
    of the two was wrong. Only failed attempts count toward the limits (:data:`AUTH_LIMIT`
    per IP and per account); a browser that signed in to the account before carries a
    signed trusted-device cookie and skips the per-account limit, so attempts from other
    addresses cannot lock the owner out. Hitting the per-account limit emails the owner
    (at most hourly).
    """
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return _land(current_user, form.next.data)
        return render_page("auth/login.html", block="form", form=form)
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except AuthError as exc:
            error = str(exc)
        else:
            login_user(user)
            device_id, _new_device = notify_login(user, request.cookies.get(DEVICE_COOKIE), device=request.user_agent.string,
                                        ip=request.remote_addr or "")
            resp = _land(user, form.next.data)
            resp.set_cookie(DEVICE_COOKIE, device_id, max_age=400 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
            set_trusted_device(resp, user.id, user.email)
            return resp
        note_failed_login(form.email.data or "", request.remote_addr or "")
    form.password.data = ""
    return render_page("auth/login.html", block="form", form=form, error=error, status=422)


@bp.post("/logout")
def logout() -> Response:
    """Log out on this host and go to its start page."""
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect("/")


#: The answer to a valid signup form, whether or not the address has an account (``%(email)s``).
_SIGNUP_SENT = _l("Check your email: we sent a message to %(email)s. If this address is new to Plaza, it holds "
                  "a link to confirm it; then log in with the password you chose. If the address already has "
                  "an account, the message tells you how to log in or reset your password.")


@bp.route("/signup-customer", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"], key_func=account_key)
def signup_customer() -> Response:
    """Create a customer account (name, email, password of 10+ characters) and send an
    email-verification link; then the person logs in. Errors about the input answer 422
    with the form kept.

    The answer to a valid form is the same "check your email" page whether or not the
    address already has an account, so the page cannot be used to find out who is
    registered: for an address that has one, nothing is created and its owner gets an email
    instead ("someone tried to create an account with your address"), with links to log in
    and to reset the password (from configuration, :func:`platform_url`).
    """
    form = CustomerSignupForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_page("auth/signup_customer.html", block="form", form=form)
    if form.validate_on_submit():
        try:
            check_password_strength(form.password.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            _sign_up_or_tell_owner(form.email.data, form.password.data, form.name.data)
            next_url = safe_next(form.next.data)
            return render_page("auth/signup_customer.html", block="form", form=form,
                               sent=str(_SIGNUP_SENT) % {"email": form.email.data},
                               login_url=url_for("auth.login", next=next_url or None))
    form.password.data = ""
    return render_page("auth/signup_customer.html", block="form", form=form, status=422)


def _sign_up_or_tell_owner(email: str, password: str, name: str) -> None:
    """Register ``email`` and send its confirmation link; when the address already has an
    account (or gets one concurrently), hash the password anyway (the same work, so the
    answer takes as long) and email the owner instead (not a suspended one). The emails go
    out after the request commits."""
    existing = find_user(email)
    if existing is None:
        try:
            with db.session.begin_nested():  # a savepoint: a concurrent signup's row wins cleanly
                user = register_account(email, password, name)
        except (AccountError, IntegrityError):
            existing = find_user(email)  # taken a moment ago by a concurrent signup
        else:
            _send_verification(user)
            return
    else:
        hash_password(password)
    if existing is not None and existing.suspended_at is None:
        after_commit(send_account_email, existing.email,
                     "Someone tried to create a Plaza account with your email address",
                     "signup_attempt", user=existing, login_link=platform_url("/login"),
                     reset_link=platform_url("/password/forgot"))


def _send_verification(user: User) -> None:
    link = external_url("auth.verify_email", tenant=g.get("tenant"), token=email_verification_token(user))
    after_commit(send_account_email, user.email, "Confirm your email address for Plaza", "verify", user=user,
                 link=link)


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> Response:
    """Confirm the email address a verification link was sent to."""
    try:
        notify_email_verified(mark_email_verified(token))
    except TokenError as exc:
        return _message(_("Link not valid"), _("%(reason)s Log in and ask for a new confirmation link.", reason=exc),
                        400, link=(url_for("auth.login"), _("Log in")))
    link = ("/", _("Continue")) if current_user.is_authenticated else (url_for("auth.login"), _("Log in"))
    return _message(_("Email confirmed"), _("Thank you: your email address is confirmed."), link=link)


@bp.post("/verify-email/resend")
@login_required
@limiter.limit(AUTH_LIMIT)
def resend_verification() -> Response:
    """Send the logged-in user a new email-verification link."""
    if current_user.email_verified_at is None:
        _send_verification(current_user)
        flash(_("We sent a new confirmation link to your email address."), "success")
    return redirect(safe_next(request.form.get("next")) or _default_destination(current_user))


#: The answer to a valid "forgot password" form, whether or not the address has an account.
_FORGOT_SENT = _l("If an account exists for that email address, we sent it a link to choose a new password. "
                  "The link works for one hour.")


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"], key_func=account_key)
def forgot_password() -> Response:
    """Ask for a password-reset link. The answer is the same whether or not the email has an
    account, so the page cannot be used to find out who is registered."""
    form = ForgotPasswordForm()
    if request.method == "GET":
        return render_page("auth/forgot.html", block="form", form=form)
    if not form.validate_on_submit():
        return render_page("auth/forgot.html", block="form", form=form, status=422)
    user = find_user(form.email.data)
    if user is not None and user.suspended_at is None:
        link = external_url("auth.reset", tenant=g.get("tenant"), token=password_reset_token(user))
        after_commit(send_account_email, user.email, "Choose a new Plaza password", "reset", user=user, link=link)
    return render_page("auth/forgot.html", block="form", form=ForgotPasswordForm(formdata=None), sent=str(_FORGOT_SENT))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"], key_func=account_key)
def reset(token: str) -> Response:
    """Choose a new password through a reset link. Every session of the account ends
    (including other devices); the user then logs in with the new password."""
    try:
        user_from_reset_token(token)
    except TokenError as exc:
        return _message(_("Link not valid"), _("%(reason)s You can ask for a new one.", reason=exc), 400,
                        link=(url_for("auth.forgot_password"), _("Send a new link")))
    form = ResetPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            notify_password_changed(reset_password(token, form.password.data))
        except AccountError as exc:
            form.password.errors.append(exc.message)
        except TokenError as exc:
            return _message(_("Link not valid"), str(exc), 400,
                            link=(url_for("auth.forgot_password"), _("Send a new link")))
        else:
            logout_user()
            flash(_("Your password is changed. Log in with the new password."), "success")
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_page("auth/reset.html", block="form", form=form, token=token, status=status)


@bp.get("/auth/handoff")
def handoff() -> Response:
    """Log in on this host from a one-time token made on another host (valid 120 s), then go
    to ``next`` (a relative path) or the default page. Used after business signup."""
    tenant = g.get("tenant")
    try:
        user = user_from_handoff_token(request.args.get("token", ""), tenant.id if tenant else None)
    except TokenError as exc:
        return _message(_("Link not valid"), _("%(reason)s Please log in.", reason=exc), 400,
                        link=(url_for("auth.login", next=safe_next(request.args.get("next"))), _("Log in")))
    login_user(user)
    return _land(user, request.args.get("next"))
