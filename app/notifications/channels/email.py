"""Email channel over the existing SMTP path (``SMTP_URL``).

A booking notification's email is the booking email itself (with its ``.ics`` for the
customer, the dashboard link for staff: :mod:`app.notifications.booking_mail`); every other
type's is the notification's own text in ``notifications/email.*``.

Marketing email carries RFC 8058 one-click unsubscribe headers (``List-Unsubscribe`` with
an HTTPS link holding a signed token, and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``) and the same link in the body; every email links to the
preferences page.
"""

from __future__ import annotations

from email.message import Message

from flask import current_app, render_template
from flask_babel import gettext as _

from app.delivery.mailer import build_message, finish_message, mail_address, sender, smtp_send
from app.delivery.models import Delivery
from app.identity.models import User
from app.notifications import booking_mail, preferences, registry
from app.notifications.center_models import Notification
from app.notifications.language import notice_locale, speaking
from app.tenants.context import tenant_scope
from app.tenants.urls import platform_url


def unsubscribe_url(user: User, type_key: str) -> str:
    """The one-click unsubscribe link of ``type_key`` for ``user``."""
    return platform_url(f"/notifications/unsubscribe/{preferences.unsubscribe_token(user.id, type_key)}")


def build_email(notification: Notification, user: User) -> Message:
    """The email for ``notification`` to ``user``, in their language (their account's choice, else
    the business's default, else English): the booking email for a booking notification
    (:func:`app.notifications.booking_mail.build`), else plain text and HTML from ``notifications/email.*``."""
    if notification.tenant_id is not None:
        with tenant_scope(notification.tenant_id):
            locale = notice_locale(user, notification.tenant_id, notification.audience, notification.subject_key)
    else:
        locale = notice_locale(user, None, notification.audience, notification.subject_key)
    with speaking(locale):
        return _build_email(notification, user)


def _build_email(notification: Notification, user: User) -> Message:
    if notification.tenant_id is not None and booking_mail.about_booking(notification):
        with tenant_scope(notification.tenant_id):
            message = booking_mail.build(notification, user)
        if message is not None:
            return message
    nt = registry.get(notification.type)
    rendered = registry.render_for(notification.type, notification.audience, notification.context)
    business = notification.context.get("business") or ""
    unsubscribe = unsubscribe_url(user, nt.key)
    context = {"rendered": rendered, "notification": notification, "nt": nt, "unsubscribe_url": unsubscribe,
               "preferences_url": platform_url("/notifications/preferences"), "business": business}
    headers = {}
    if nt.is_marketing:
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    msg = build_message(
        sender=sender(_("%(business)s via Plaza", business=business) if business else "Plaza"),
        to=mail_address(user.name or "", user.email), subject=rendered.subject,
        text=render_template("notifications/email.txt", **context),
        html=render_template("notifications/email.html", **context), headers=headers)
    return finish_message(msg, f"notify-{nt.key}", None)


class EmailChannel:
    """Sends the notification's email through ``SMTP_URL``."""

    name = "email"

    def send_message(self, notification: Notification, user: User) -> Message:
        """Build and send the email; returns the message that went out.

        Raises:
            smtplib.SMTPException, OSError: the SMTP server refused or could not be reached.
        """
        msg = build_email(notification, user)
        smtp_send(current_app.config["SMTP_URL"], msg)
        return msg

    def send(self, notification: Notification, delivery: Delivery, user: User) -> str | None:
        """Send; returns the Message-ID.

        Raises:
            smtplib.SMTPException, OSError: the SMTP server refused or could not be reached.
        """
        return str(self.send_message(notification, user)["Message-ID"])
