"""``flask create-admin EMAIL``: make a platform admin (create the account or promote it) and
start their second-factor enrolment."""

from __future__ import annotations

import secrets

import click
from flask import Flask

from app.audit.service import SYSTEM_ACTOR, record_audit
from app.identity.service import create_user, find_user
from app.identity.totp import provisioning_uri, start_enrolment
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import unit_of_work


@click.command("create-admin")
@click.argument("email")
def create_admin_command(email: str) -> None:
    """Create the account EMAIL (with a one-time random password, printed) or promote the existing
    one to platform admin, and print the second-factor secret and its otpauth:// link (scan it,
    then sign in and enter a code at /admin/second-factor; the console shows the recovery codes)."""
    password = None
    with unit_of_work(), platform_scope("create-admin: a new platform admin"):
        user = find_user(email)
        if user is None:
            password = secrets.token_urlsafe(12)
            user = create_user(email, password, "Platform admin")
            user.email_verified_at = utcnow()
        was_admin = user.is_platform_admin
        user.is_platform_admin = True
        record = start_enrolment(user)
        record_audit(SYSTEM_ACTOR, "user.platform_admin_granted", "user", user.id,
                     before={"is_platform_admin": was_admin}, after={"is_platform_admin": True})
        secret, uri, address = record.secret, provisioning_uri(user, record.secret), user.email
    click.echo(f"{address} is a platform admin.")
    if password:
        click.echo(f"Password (change it after signing in): {password}")
    click.echo(f"Second factor secret: {secret}")
    click.echo(f"Authenticator link: {uri}")
    click.echo("Sign in on the apex and open /admin/ to confirm the second factor and get the recovery codes.")


def register_admin_cli(app: Flask) -> None:
    """Add ``flask create-admin`` to ``app``."""
    app.cli.add_command(create_admin_command)
