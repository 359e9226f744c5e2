"""Flask CLI commands: ``flask seed-demo``."""

from __future__ import annotations

import click
from flask import Flask

from journey.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when members exist already.")
    def seed_demo_command(if_empty: bool):
        """Load the fictional Baltic demo cluster (idempotent)."""
        from journey.demo import seed_demo  # the demo data is only loaded when asked for

        summary = seed_demo(only_if_empty=if_empty)
        db.session.commit()
        click.echo(summary)

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--full-name", default="Cluster admin")
    @click.password_option()
    def create_admin_command(email: str, full_name: str, password: str):
        """Create a cluster admin account."""
        from journey.accounts.services import bootstrap_admin
        from journey.errors import DomainError, translate_messages

        try:
            user = bootstrap_admin(email=email, password=password, full_name=full_name)
        except DomainError as error:
            raise click.ClickException(
                f"{error.message} {translate_messages(error.fields)}") from error
        db.session.commit()
        click.echo(f"admin {user.email} created (id {user.id})")

    @app.cli.command("scheduler")
    def scheduler_command():
        """Run the scheduled jobs (one process only: a second one waits for the lease)."""
        from journey.scheduler import run_forever

        click.echo("scheduler: waiting for the lease, then running the jobs (Ctrl-C stops)")
        try:
            run_forever(app)
        except KeyboardInterrupt:
            click.echo("scheduler: stopped")
