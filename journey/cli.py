"""Flask CLI commands: ``flask seed-demo``, ``create-admin``, ``scheduler``, ``welcome``,
``files rotate-key``, ``figures check``, ``figures rebuild``, ``usage check``,
``usage rebuild``, ``ratings check`` and ``ratings rebuild``."""

from __future__ import annotations

import importlib

import click
from flask import Flask
from flask.cli import AppGroup

from journey.core.config import ConfigurationError
from journey.core.extensions import db
from journey.core.storage import StorageError, get_storage


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when members exist already.")
    def seed_demo_command(if_empty: bool):
        """Load the fictional Baltic demo cluster (idempotent); its completed, reviewed
        journeys too when Stripe (localstripe) answers at STRIPE_API_BASE."""
        from journey.demo import seed_demo  # the demo data is only loaded when asked for
        from journey.demo_reviews import demo_gateway

        gateway, problem = demo_gateway()
        summary = seed_demo(only_if_empty=if_empty, gateway=gateway, gateway_problem=problem)
        db.session.commit()
        click.echo(summary)

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--full-name", default="Cluster admin")
    @click.password_option()
    def create_admin_command(email: str, full_name: str, password: str):
        """Create a cluster admin account."""
        from journey.core.accounts.services import bootstrap_admin
        from journey.core.errors import DomainError, translate_messages

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

    @app.cli.command("welcome")
    @click.option("--url", required=True, help="Where the server answers.")
    @click.option("--wait", default=60.0, show_default=True,
                  help="Seconds to wait for the server to answer.")
    def welcome_command(url: str, wait: float):
        """Wait until the server answers, then print its URL and one demo login per role."""
        from journey.demo import welcome_block

        if not _answers(url, wait):
            raise click.ClickException(f"{url} did not answer within {wait:.0f} s")
        click.echo(welcome_block(url))

    app.cli.add_command(files_commands())
    app.cli.add_command(figures_commands())
    app.cli.add_command(usage_commands())
    app.cli.add_command(ratings_commands())


def files_commands() -> AppGroup:
    files = AppGroup("files", help="The stored files (documents, photos) and their keys.")

    @files.command("rotate-key")
    def rotate_key_command():
        """Re-encrypt every stored file with the first (newest) key of FILE_KEYS."""
        try:
            storage = get_storage()
            count = storage.rotate_all()
        except (ConfigurationError, StorageError) as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"files: {count} in {storage.inner!r} re-encrypted with the primary key; "
                   "the older keys may now be dropped from FILE_KEYS")

    return files


def figures_commands() -> AppGroup:
    figures = AppGroup("figures", help="The figures' monthly sums of the settlement ledger.")

    @figures.command("check")
    def check_command():
        """Compare the monthly sums with the ledger (exit 1 when they disagree)."""
        from journey.figures import rollup

        _report(rollup.differences(), str,
                "{n} sums disagree with the ledger; `flask figures rebuild` recomputes them",
                "figures: the monthly sums agree with the ledger")

    @figures.command("rebuild")
    def rebuild_command():
        """Recompute the monthly sums from the ledger."""
        from journey.figures import rollup

        sales, window = rollup.rebuild()
        db.session.commit()
        click.echo(f"figures: {sales} monthly sales rows and {window} one-window rows "
                   "rebuilt from the ledger")

    return figures


def usage_commands() -> AppGroup:
    return _kept_counts_commands(
        "usage", "The units used of each capacity day (capacity_day.used).",
        "bookings.services.usage", "usage_differences", "rebuild_usage_counts",
        check_help="Compare the calendar's used units with the holds and bookings (exit 1 "
                   "when they disagree).",
        rebuild_help="Correct the used units of the days where they differ.",
        describe=lambda found: (f"offer {found[0]} on {found[1].isoformat()}: kept "
                                f"{found[2]}, holds and bookings {found[3]}"),
        disagree="{n} days disagree with the holds and bookings; `flask usage rebuild` "
                 "corrects them",
        agree="usage: the calendar's used units agree with the holds and bookings",
        corrected="usage: {n} days corrected")


def ratings_commands() -> AppGroup:
    return _kept_counts_commands(
        "ratings", "The members' kept ratings (member_rating).",
        "journey.reviews.services.counts", "rating_differences", "rebuild_ratings",
        check_help="Compare each member's kept rating with its published reviews (exit 1 "
                   "when they disagree).",
        rebuild_help="Count again the ratings of the members where they differ.",
        describe=lambda found: (f"member {found[0]}: kept {found[1]} reviews totalling "
                                f"{found[2]}, published {found[3]} totalling {found[4]}"),
        disagree="{n} members disagree with their published reviews; `flask ratings "
                 "rebuild` corrects them",
        agree="ratings: the kept ratings agree with the published reviews",
        corrected="ratings: {n} members corrected")


def _kept_counts_commands(name: str, help_text: str, module: str, differences: str,
                          rebuild: str, *, check_help: str, rebuild_help: str, describe,
                          disagree: str, agree: str, corrected: str) -> AppGroup:
    """``flask NAME check|rebuild`` of figures kept beside their sources: ``module``'s
    ``differences()`` (a list, empty when they agree) and ``rebuild()`` (how many it
    corrected), imported when the command runs."""
    group = AppGroup(name, help=help_text)

    def service(function: str):
        return getattr(importlib.import_module(module), function)

    @group.command("check", help=check_help)
    def check_command():
        _report(service(differences)(), describe, disagree, agree)

    @group.command("rebuild", help=rebuild_help)
    def rebuild_command():
        count = service(rebuild)()
        db.session.commit()
        click.echo(corrected.format(n=count))

    return group


def _report(found: list, describe, disagree: str, agree: str) -> None:
    """A check command's output: the first 50 differences and exit 1, or ``agree``."""
    for difference in found[:50]:
        click.echo(describe(difference))
    if found:
        raise click.ClickException(disagree.format(n=len(found)))
    click.echo(agree)


def _answers(url: str, wait: float) -> bool:
    """Poll ``url`` (loopback only) until it answers with any HTTP status."""
    import time
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlsplit
    from urllib.request import urlopen

    if urlsplit(url).scheme not in ("http", "https"):
        raise click.BadParameter("an http(s) URL", param_hint="--url")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            urlopen(url, timeout=2).close()  # noqa: S310 - scheme checked above
            return True
        except HTTPError:
            return True
        except (URLError, OSError):
            time.sleep(0.3)
    return False
