"""Notification center, preferences, one-click unsubscribe, Web Push subscription, the
service worker, and an owner's "what was sent to this customer" page.

The center and preferences work on every host (a person's notifications span businesses)
and read strictly by the logged-in user's id. The sent-to-customer pages are on the
business's host, for owners and managers only (anyone else, and another business's
customer, gets 404).
"""

from __future__ import annotations

import base64
import logging
import uuid
from urllib.parse import urlsplit

import click
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from app.blueprints.notifications import bp
from app.booking.models import Customer
from app.customers.ownership import account_of
from app.extensions import csrf, db
from app.formatting import format_number
from app.identity.models import User
from app.identity.service import TokenError
from app.notifications import audiences, center, deliverylog, fanout, preferences, registry
from app.notifications.channels import push
from app.tenants.context import platform_scope
from app.tenants.models import Membership, Role
from app.tenants.roles import platform_read
from app.tenants.urls import tenant_url
from app.web import get_or_404, parse_uuid, render_page
from app.web.access import manager_required
from app.web.effects import after_commit


@bp.app_context_processor
def _bell() -> dict[str, object]:
    def notification_unread() -> int:
        """Unread count of the logged-in person (0 when anonymous)."""
        if not current_user.is_authenticated:
            return 0
        try:
            return center.unread_count(current_user.id)
        except Exception:  # noqa: BLE001 - the bell must never break a page (e.g. an error page)
            logging.getLogger("plaza.notifications").warning("unread count failed", exc_info=True)
            return 0

    return {"notification_unread": notification_unread}


def _tab() -> str:
    tab = request.values.get("tab", "all")
    return tab if tab in center.TABS else "all"


def _ids() -> list[uuid.UUID]:
    return [i for i in (parse_uuid(v) for v in request.form.getlist("ids")) if i is not None]


def _center(tab: str, status: int = 200) -> Response:
    uid = current_user.id
    return render_page("notifications/center.html", block="center", status=status, tab=tab,
                       items=center.list_notifications(uid, tab), unread=center.unread_count(uid))


def _back(tab: str) -> Response:
    """After an action: the center block for HTMX, else a redirect to the tab (post/redirect/get)."""
    if request.headers.get("HX-Request") == "true":
        return _center(tab)
    return redirect(url_for("notifications.index", tab=tab))


@bp.get("/notifications/")
@login_required
def index() -> Response:
    """The notification center: tabs all / unread / archived, newest first."""
    return _center(_tab())


@bp.get("/notifications/badge")
@login_required
def badge() -> Response:
    """The unread count: JSON ``{"unread": n}`` when asked for JSON, else the badge fragment."""
    n = center.unread_count(current_user.id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"unread": n})
    return render_page("notifications/_badge.html", unread=n)


@bp.post("/notifications/bulk")
@login_required
def bulk() -> Response:
    """Mark the ticked notifications read (``action=read``; ``all=1``: every unread one) or
    archive them (``action=archive``)."""
    action, ids = request.form.get("action"), _ids()
    if action == "archive":
        n = center.archive(current_user.id, ids)
        msg = ngettext("%(num)d archived.", "%(num)d archived.", n)
    elif action == "unarchive":
        n = center.unarchive(current_user.id, ids)
        msg = ngettext("%(num)d moved back to the inbox.", "%(num)d moved back to the inbox.", n)
    elif action == "read" or request.form.get("all") == "1":
        n = center.mark_read(current_user.id, None if request.form.get("all") == "1" else ids)
        msg = ngettext("%(num)d marked read.", "%(num)d marked read.", n)
    else:
        abort(400)
    after_commit(center.push_badge, current_user.id)
    if request.headers.get("HX-Request") != "true":
        flash(msg, "success")
    return _back(_tab())


def _act_on_one(notification_id: str, act) -> Response:
    """Apply ``act(user_id, [id])`` to one of the current user's notifications (another
    person's answers 404), commit, refresh the badge and go back."""
    item = center.get_notification(current_user.id, parse_uuid(notification_id))
    if item is None:
        abort(404)
    act(current_user.id, [item.id])
    after_commit(center.push_badge, current_user.id)
    return _back(_tab())


@bp.post("/notifications/<notification_id>/read")
@login_required
def read(notification_id: str) -> Response:
    """Mark one notification read (someone else's answers 404)."""
    return _act_on_one(notification_id, center.mark_read)


@bp.post("/notifications/<notification_id>/archive")
@login_required
def archive(notification_id: str) -> Response:
    """Archive one notification (someone else's answers 404)."""
    return _act_on_one(notification_id, center.archive)


def _safe_target(url: str) -> str:
    """``url`` when it is a local path or an http(s) URL on the platform's domain, else the center."""
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    domain = current_app.config["PLATFORM_DOMAIN"]
    host = parts.hostname or ""
    if parts.scheme in {"http", "https"} and (host == domain or host.endswith("." + domain)):
        return url
    return url_for("notifications.index")


@bp.get("/notifications/<notification_id>/open")
@login_required
def open_(notification_id: str) -> Response:
    """Mark one notification read and go to what it is about."""
    item = center.get_notification(current_user.id, parse_uuid(notification_id))
    if item is None:
        abort(404)
    target = _safe_target(item.url or "")
    center.mark_read(current_user.id, [item.id])
    after_commit(center.push_badge, current_user.id)
    return redirect(target)


@bp.get("/notifications/<notification_id>/log")
@login_required
def log(notification_id: str) -> Response:
    """Where one of my notifications went: its delivery log per channel."""
    item = center.get_notification(current_user.id, parse_uuid(notification_id))
    if item is None:
        abort(404)
    return render_page("notifications/log.html", item=item,
                       deliveries=deliverylog.deliveries_of(current_user.id, item.id))


# --- preferences ------------------------------------------------------------------------------


def _audiences() -> set[str]:
    """Audiences shown on my preferences page: staff and billing types only to staff."""
    with platform_read("person's own roles for their preferences page") as conn:
        roles = set(conn.scalars(sa.select(Membership.role).where(Membership.user_id == current_user.id)))
    audiences = {"customer", "participant", "user"}
    if roles & {Role.OWNER.value, Role.MANAGER.value, Role.STAFF.value}:
        audiences.add("staff")
    if Role.OWNER.value in roles:
        audiences.add("owner")
    return audiences


def _preferences_page(status: int = 200, saved: bool = False) -> Response:
    uid = current_user.id
    return render_page("notifications/preferences.html", block="prefs", status=status,
                       groups=preferences.grouped(preferences.preference_table(uid, _audiences())),
                       channels=registry.CHANNELS,
                       labels=registry.CHANNEL_LABELS, consent=preferences.current_consent(uid),
                       push_key=push.vapid_public_key(), saved=saved)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences_page() -> Response:
    """Per type and channel on/off switches, and marketing consent (given or withdrawn here)."""
    if request.method == "GET":
        return _preferences_page()
    uid = current_user.id
    for row in preferences.preference_table(uid, _audiences()):
        for channel, (_on, locked, offered) in row.channels.items():
            if offered and not locked:
                preferences.set_preference(uid, row.type_key, channel, f"{row.type_key}:{channel}" in request.form)
    wants_marketing = request.form.get("marketing") == "1"
    has = preferences.has_marketing_consent(uid)
    if wants_marketing and not has:
        preferences.grant_consent(uid, method="preferences page checkbox", source=request.url,
                                  ip=request.remote_addr)
    elif not wants_marketing and has:
        preferences.withdraw_consent(uid, method="preferences page checkbox")
    if request.headers.get("HX-Request") == "true":
        return _preferences_page(saved=True)
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("notifications.preferences_page"))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Response:
    """One-click unsubscribe (RFC 8058): a POST (mail clients send
    ``List-Unsubscribe=One-Click``) turns the email off at once; a GET shows a confirm button,
    so link scanners that follow URLs do not unsubscribe anyone. No login needed: the signed
    token says who and what."""
    try:
        user_id, type_key = preferences.read_unsubscribe_token(token)
    except TokenError as exc:
        return render_page("notifications/unsubscribe.html", error=exc.args[0], done=False, token=token,
                           label="", status=400)
    label = registry.get(type_key).label
    if db.session.get(User, user_id) is None:
        return render_page("notifications/unsubscribe.html", error=_("This link is not valid."), done=False,
                           token=token, label=label, status=400)
    if request.method == "POST":
        # No one is logged in: the signed token names the person, whose account-wide consent
        # the tenant role of a business host cannot see (app.user_id is the logged-in person).
        with platform_scope("one-click unsubscribe of the person the signed token names"):
            preferences.unsubscribe(user_id, type_key)
            db.session.flush()  # inside the platform scope the row is visible to; the request commits
        return render_page("notifications/unsubscribe.html", error=None, done=True, token=token, label=label)
    return render_page("notifications/unsubscribe.html", error=None, done=False, token=token, label=label)


# --- web push -------------------------------------------------------------------------------


@bp.get("/notifications/push/key")
def push_key() -> Response:
    """The VAPID public key and a CSRF token for the subscribe call (``{"key": "…", "csrf":
    "…"}``; ``key`` empty when push is not configured). The service worker renews a
    subscription with them (``pushsubscriptionchange``)."""
    resp = jsonify({"key": push.vapid_public_key(), "csrf": generate_csrf()})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/notifications/push/subscribe")
@login_required
def push_subscribe() -> Response:
    """Store this browser's push subscription (JSON body: ``PushSubscription.toJSON()``): 201;
    422 for a malformed or refused endpoint, 409 when another account has it."""
    try:
        endpoint, p256dh, auth = push.validate_subscription(request.get_json(silent=True),
                                                            allow_insecure=push.insecure_allowed())
    except push.InvalidSubscription as exc:
        return jsonify({"error": str(exc)}), 422
    try:
        push.save_subscription(current_user.id, endpoint, p256dh, auth, request.headers.get("User-Agent", ""))
    except push.EndpointTaken as exc:
        return jsonify({"error": str(exc)}), 409
    return jsonify({"ok": True}), 201


@bp.post("/notifications/push/unsubscribe")
@login_required
def push_unsubscribe() -> Response:
    """Forget this browser's push subscription (JSON ``{"endpoint": …}``)."""
    data = request.get_json(silent=True) or {}
    n = push.remove_subscription(current_user.id, str(data.get("endpoint", "")))
    return jsonify({"removed": n})


# --- owner view: what was sent to a customer --------------------------------------------------


@bp.get("/notifications/sent")
@manager_required
def sent_index() -> Response:
    """Owners and managers: the business's customers, each linking to what was sent to them."""
    q = request.args.get("q", "").strip().lower()[:100]
    stmt = sa.select(Customer).order_by(Customer.created_at.desc()).limit(100)
    if q:
        stmt = stmt.where(sa.or_(Customer.email.contains(q, autoescape=True),
                                 sa.func.lower(Customer.name).contains(q, autoescape=True)))
    return render_page("notifications/sent_index.html", block="customers", customers=list(db.session.scalars(stmt)),
                       q=q)


@bp.get("/notifications/sent/<customer_id>")
@manager_required
def sent_to_customer(customer_id: str) -> Response:
    """Owners and managers: every email and notification sent to one customer, with status,
    attempts and errors (another business's customer answers 404)."""
    customer = get_or_404(Customer, customer_id)
    rows = deliverylog.sent_to_customer(customer.email, account_of(customer.id))
    return render_page("notifications/sent.html", customer=customer, rows=rows)


# --- owner: announcements to consenting customers ------------------------------------------------


@bp.route("/notifications/announce", methods=["GET", "POST"])
@manager_required
def announce() -> Response:
    """Owners and managers: send news to the customers who agreed to marketing (each email
    carries a one-click unsubscribe link). Empty or too long fields re-render with 422."""
    tenant = g.tenant
    audience = len(audiences.announcement_audience(tenant.id))
    values = {"headline": request.form.get("headline", "").strip(), "message": request.form.get("message", "").strip()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not values["headline"]:
            errors["headline"] = _("Give your announcement a headline.")
        elif len(values["headline"]) > 120:
            errors["headline"] = _("Keep the headline under %(num)d characters.", num=120)
        if not values["message"]:
            errors["message"] = _("Write the message.")
        elif len(values["message"]) > 1000:
            errors["message"] = _("Keep the message under %(num)s characters.", num=format_number(1000))
        if not errors:
            fanout.record_announcement(tenant.name, values["headline"], values["message"], tenant_url(tenant))
            flash(ngettext("Your announcement is on its way to %(num)d customer who agreed to news.",
                           "Your announcement is on its way to %(num)d customers who agreed to news.", audience), "success")
            if request.headers.get("HX-Request") == "true":
                resp = current_app.make_response(("", 200))
                resp.headers["HX-Redirect"] = url_for("notifications.announce")
                return resp
            return redirect(url_for("notifications.announce"))
    return render_page("notifications/announce.html", block="form", status=422 if errors else 200,
                       values=values, errors=errors, audience=audience)


@bp.cli.command("vapid-keys")
def vapid_keys() -> None:
    """Print a new VAPID key pair as environment lines (``flask notifications vapid-keys``)."""
    def b64u(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    click.echo(f"VAPID_PUBLIC_KEY={b64u(public)}")
    click.echo(f"VAPID_PRIVATE_KEY={b64u(key.private_numbers().private_value.to_bytes(32, 'big'))}")
    click.echo("VAPID_SUBJECT=mailto:ops@example.com")
