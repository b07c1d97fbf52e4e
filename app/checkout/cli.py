"""``flask billing …``: repair drift between Plaza and Stripe, for Plaza's own subscriptions
(:mod:`app.billing`) and for customer payments on bookings (:mod:`app.checkout.tasks`).

It lives here, above both domains, because it composes them. Each command is one unit of
work (:func:`app.uow.unit_of_work`); the payment reconcile commits per payment inside it.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.billing.plans import billing_enabled
from app.billing.service import reconcile_all
from app.billing.tasks import sweep_unprocessed
from app.checkout.tasks import reconcile_payments
from app.uow import unit_of_work


def register_billing_cli(app: Flask) -> None:
    """Attach the ``billing`` command group (``reconcile``, ``process-pending``) to ``app.cli``."""
    group = AppGroup("billing", help="Plaza subscriptions (Stripe).")

    @group.command("reconcile")
    def reconcile() -> None:
        """Re-fetch from Stripe every subscription and every booking payment that is not final,
        repair drift, and print what changed (one line each, then a count of each)."""
        if not billing_enabled():
            click.echo("billing is not configured (STRIPE_SECRET_KEY unset); nothing to reconcile")
            return
        with unit_of_work():
            changed = reconcile_all()
        for tenant_id, sub_id, changes in changed:
            parts = ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in changes.items())
            click.echo(f"{tenant_id} {sub_id}: {parts}")
        with unit_of_work():
            payments = reconcile_payments()
        for line in payments:
            click.echo(line)
        click.echo(f"reconciled: {len(changed)} subscription(s) changed, {len(payments)} payment(s) changed")

    @group.command("process-pending")
    def process_pending() -> None:
        """Process recorded webhook events whose job was lost (each event in its own unit of work)."""
        with unit_of_work():
            processed = sweep_unprocessed()
        click.echo(f"processed {processed} event(s)")

    app.cli.add_command(group)
