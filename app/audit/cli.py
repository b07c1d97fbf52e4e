"""``flask audit verify``: check the audit log's hash chain (:mod:`app.audit.chain`)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from app.audit.chain import verify_chain
from app.tenants.context import platform_scope
from app.uow import unit_of_work

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the audit chain; print how many rows were checked and exit 0 when it is intact, or
    name the first broken row (seq, id, what is wrong) and exit 1."""
    with unit_of_work(), platform_scope("audit verify: walk the whole chain"):
        report = verify_chain()
    if report.intact:
        click.echo(f"Audit chain intact: {report.rows} rows.")
        return
    broken = report.broken
    click.echo(f"Audit chain BROKEN at row seq={broken.seq} id={broken.id}: {broken.problem} "
               f"({report.rows - 1} rows before it are intact).", err=True)
    sys.exit(1)


def register_audit_cli(app: Flask) -> None:
    """Add the ``flask audit`` commands to ``app``."""
    app.cli.add_command(audit_cli)
