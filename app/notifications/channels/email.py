"""Email channel over the existing SMTP path (``SMTP_URL``).

Marketing email carries RFC 8058 one-click unsubscribe headers (``List-Unsubscribe`` with
an HTTPS link holding a signed token, and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``) and the same link in the body; every email links to the
preferences page.
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template

from app.delivery.mailer import build_message, finish_message, mail_address, sender, smtp_send
from app.delivery.models import NotificationDelivery
from app.identity.models import User
from app.notifications import preferences, registry
from app.notifications.center_models import Notification
from app.tenants.urls import platform_url


def unsubscribe_url(user: User, type_key: str) -> str:
    """The one-click unsubscribe link of ``type_key`` for ``user``."""
    return platform_url(f"/notifications/unsubscribe/{preferences.unsubscribe_token(user.id, type_key)}")


def build_email(notification: Notification, user: User) -> EmailMessage:
    """The email for ``notification`` to ``user`` (plain text and HTML from ``notifications/email.*``)."""
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
        sender=sender(f"{business} via Plaza" if business else "Plaza"),
        to=mail_address(user.name or "", user.email), subject=rendered.subject,
        text=render_template("notifications/email.txt", **context),
        html=render_template("notifications/email.html", **context), headers=headers)
    return finish_message(msg, f"notify-{nt.key}", None)


class EmailChannel:
    """Sends the notification's email through ``SMTP_URL``."""

    name = "email"

    def send(self, notification: Notification, delivery: NotificationDelivery, user: User) -> str | None:
        """Send; returns the Message-ID.

        Raises:
            smtplib.SMTPException, OSError: the SMTP server refused or could not be reached.
        """
        msg = build_email(notification, user)
        smtp_send(current_app.config["SMTP_URL"], msg)
        return str(msg["Message-ID"])
