"""``flask billing reconcile``: re-fetch every non-final subscription and repair drift."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db


def register_billing_cli(app: Flask) -> None:
    """Attach the ``billing`` command group to ``app.cli``."""
    group = AppGroup("billing", help="Plaza subscriptions (Stripe).")

    @group.command("reconcile")
    def reconcile() -> None:
        """Re-fetch from Stripe every subscription and every booking payment that is not final,
        repair drift, and print what changed (one line each, then a count of each)."""
        from app.billing.plans import billing_enabled
        from app.billing.service import reconcile_all
        from app.checkout.tasks import reconcile_payments

        if not billing_enabled():
            click.echo("billing is not configured (STRIPE_SECRET_KEY unset); nothing to reconcile")
            return
        changed = reconcile_all()
        db.session.commit()
        for tenant_id, sub_id, changes in changed:
            parts = ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in changes.items())
            click.echo(f"{tenant_id} {sub_id}: {parts}")
        payments = reconcile_payments()
        for line in payments:
            click.echo(line)
        click.echo(f"reconciled: {len(changed)} subscription(s) changed, {len(payments)} payment(s) changed")

    @group.command("process-pending")
    def process_pending() -> None:
        """Process recorded webhook events whose job was lost."""
        from app.billing.tasks import sweep_unprocessed

        click.echo(f"processed {sweep_unprocessed()} event(s)")

    app.cli.add_command(group)
